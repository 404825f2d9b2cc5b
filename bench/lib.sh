# Shared by the benchmark scripts (source it from the repository root): builds, gives a scratch
# directory, starts a fresh three-node cluster, and stops whatever was started (every pid in
# `pids`) and removes the scratch directory on exit, failure or Ctrl-C.
#
#   bench_begin NAME              # build; $bin, $work (/tmp/minidynamo-NAME.XXXXXX), pids=()
#                                 # (MINIDYNAMO_BIN=path: measure that binary, build nothing)
#   start_cluster [NODE FLAGS]    # nodes on HTTP_PORTS, data in $work; sets $nodes; waits for /health
#   ticks_of PID...               # CPU clock ticks (user + system) the processes used so far

bench_begin() {
  bin=${MINIDYNAMO_BIN:-build/bin/minidynamo}
  [ -n "${MINIDYNAMO_BIN:-}" ] || scripts/build.sh > /dev/null
  work=$(mktemp -d "/tmp/minidynamo-$1.XXXXXX")
  pids=()
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
    "$bin" node --port "$port" --nodes "$nodes" --data-dir "$work/node_$port" --log-level warn "$@" \
      > "$work/node_$port.log" 2>&1 &
    pids+=($!)
  done
  for port in "${HTTP_PORTS[@]}"; do
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" > /dev/null && break; sleep 0.1; done
  done
}

ticks_of() { local pid total=0; for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$total"; }
