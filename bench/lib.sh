# Shared by the benchmark scripts (source it from the repository root): builds, gives a scratch
# directory, starts a fresh three-node cluster, and stops whatever was started (every pid in
# `pids`) and removes the scratch directory on exit, failure or Ctrl-C.
#
#   bench_begin NAME              # build; $bin, $work (/tmp/minidynamo-NAME.XXXXXX), pids=()
#                                 # (MINIDYNAMO_BIN=path: measure that binary, build nothing)
#   start_cluster [NODE FLAGS]    # nodes on HTTP_PORTS, data in $work; sets $nodes; waits for /health;
#                                 # each also gets $cluster_node_flags (below)
#   cluster_node_flags            # what every node of a cluster on this host gets: they share its
#                                 # cores, so --threads 1 (docs/operations.md); NODE_FLAGS="--threads 2"
#                                 # (or any flags) replaces that
#   ticks_of PID...               # CPU clock ticks (user + system) the processes used so far
#   run_wrk READ_PERCENT PREFIX FILE  # wrk against every node (below); wrk_requests, wrk_ops, wrk_p99
#   json_field NAME < LINES       # the number NAME of each one-line JSON (bench --json, WRK_JSON)

bench_begin() {
  bin=${MINIDYNAMO_BIN:-build/bin/minidynamo}
  [ -n "${MINIDYNAMO_BIN:-}" ] || scripts/build.sh > /dev/null
  work=$(mktemp -d "/tmp/minidynamo-$1.XXXXXX")
  pids=()
  cluster_node_flags=${NODE_FLAGS:---threads 1}
  trap bench_end EXIT INT TERM
}

bench_end() {
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  rm -rf "$work"
}

start_cluster() {
  nodes=$(printf '127.0.0.1:%s,' "${HTTP_PORTS[@]}"); nodes=${nodes%,}
  local port
  for port in "${HTTP_PORTS[@]}"; do
    # shellcheck disable=SC2086  # a list of flags
    "$bin" node --port "$port" --nodes "$nodes" --data-dir "$work/node_$port" --log-level warn $cluster_node_flags "$@" \
      > "$work/node_$port.log" 2>&1 &
    pids+=($!)
  done
  for port in "${HTTP_PORTS[@]}"; do
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" > /dev/null && break; sleep 0.1; done
  done
}

ticks_of() { local pid total=0; for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$total"; }

json_field() { sed -E "s/.*\"$1\":([0-9.]+).*/\\1/"; }

# wrk, an independent load generator (bench/wrk_mixed.lua), for DURATION seconds against every node
# of HTTP_PORTS with CONNECTIONS spread over them, one wrk process per node, VALUE_BYTES, KEYS and
# N=3 R=2 W=2. Its reads ask for keys PREFIX0.. (as `minidynamo bench --key-prefix PREFIX` writes
# them); its writes go to fresh keys without a context. The processes are children of this shell,
# waited for, so `times` counts their CPU. Sets wrk_requests, wrk_ops (requests/s, summed) and
# wrk_p99 (ms, the highest of the nodes'); keeps wrk's outputs in FILE. An answer other than 2xx
# fails the script; socket errors are reported.
run_wrk() {
  local read_percent=$1 prefix=$2 i=0 port files=() wrk_pids=()
  for port in "${HTTP_PORTS[@]}"; do
    KEYS=$KEYS VALUE_BYTES=$VALUE_BYTES READ_PERCENT=$read_percent PREFIX=$prefix N=3 R=2 W=2 \
      wrk -t1 -c$(( CONNECTIONS / ${#HTTP_PORTS[@]} + (i < CONNECTIONS % ${#HTTP_PORTS[@]} ? 1 : 0) )) -d"${DURATION}s" \
      -s bench/wrk_mixed.lua "http://127.0.0.1:$port" > "$work/wrk$i.out" 2>&1 &
    wrk_pids+=($!) files+=("$work/wrk$i.out") i=$((i + 1))
  done
  wait "${wrk_pids[@]}"
  cat "${files[@]}" > "$3"
  local lines; lines=$(grep -h WRK_JSON "${files[@]}")
  [ "$(echo "$lines" | wc -l)" = "${#HTTP_PORTS[@]}" ] || { cat "${files[@]}" >&2; echo "wrk failed" >&2; exit 1; }
  if echo "$lines" | grep -qv '"errors":0,'; then echo "wrk saw socket errors: $lines" >&2; fi
  local non_2xx; non_2xx=$(echo "$lines" | json_field non_2xx | awk '{s+=$1} END {print s}')
  [ "$non_2xx" = 0 ] || { echo "wrk got $non_2xx answers other than 2xx: $lines" >&2; exit 1; }
  wrk_requests=$(echo "$lines" | json_field requests | awk '{s+=$1} END {print s}')
  wrk_ops=$(paste <(echo "$lines" | json_field requests) <(echo "$lines" | json_field seconds) | awk '{s+=$1/$2} END {printf "%.1f", s}')
  wrk_p99=$(echo "$lines" | json_field p99_ms | sort -g | tail -1)
}
