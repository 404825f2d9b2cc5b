#!/usr/bin/env bash
# Benchmarks a fresh three-node Mini Dynamo cluster (durable RocksDB, --sync always) against a
# redis-server measured by redis-benchmark, in one run, with the same client settings: 64
# connections, 100-byte values, 10,000 keys. Prints our throughput as a ratio of Redis's SET/GET
# average beside the p99s, and the CPU time one request costs the servers and the load generators
# (the runs are CPU-bound: that cost is what decides the ratio). Each workload runs on our own load
# generator (`minidynamo bench`) and on wrk (rows "<workload>/wrk"), alternating, so that an
# independent client checks ours. Everything it starts it stops,
# also on failure or Ctrl-C.
#
#   bench/cluster_bench.sh                # 3 runs of each workload, 10 s each
#   RUNS=1 DURATION=3 bench/cluster_bench.sh   # a quick smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
SYNC=${SYNC:-always}  # the engine sync policy of the nodes
WORKLOADS=${WORKLOADS:-"mixed write read read-heavy"}
CONNECTIONS=64 VALUE_BYTES=100 KEYS=10000
HTTP_PORTS=(7101 7102 7103)
REDIS_PORT=7379
OUT=${OUT:-bench/results}

source bench/lib.sh
bench_begin bench
mkdir -p "$OUT"
rm -f "$OUT"/*-run*.json "$OUT"/*-wrk-run*.txt "$OUT"/redis-run*.csv  # an earlier set's runs must not pass for this one's
start_cluster --sync "$SYNC"
node_pids=("${pids[@]}")
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  > "$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping > /dev/null 2>&1 && break; sleep 0.1; done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# CPU time used so far, in clock ticks (user + system, all threads): by processes (ticks_of), and
# by this shell's waited-for children, the load generators (count_children_ticks). The runs are
# CPU-bound, so the CPU one request costs is what bounds throughput.
ticks_of() { local pid total=0; for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$total"; }
# (Sets children_ticks; `times` must run in this shell, not in a $(...) subshell.)
count_children_ticks() { times > "$work/times"; children_ticks=$(awk -v hz="$(getconf CLK_TCK)" 'NR==2 {
  split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.0f\n", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * hz }' "$work/times"); }
# Microseconds of CPU per operation from a tick count.
per_op_us() { awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}'; }
minmax() { sort -g | awk 'NR==1{min=$1} {max=$1} END {printf "%s..%s", min, max}'; }

# Redis reference: SET and GET, same connections, value size and key space.
redis_tput=() redis_p99=() redis_server_cpu=() redis_client_cpu=()
redis_pid=${pids[-1]}
for run in $(seq 1 "$RUNS"); do
  count_children_ticks; server_before=$(ticks_of "$redis_pid") client_before=$children_ticks
  csv=$(redis-benchmark -p "$REDIS_PORT" -c "$CONNECTIONS" -d "$VALUE_BYTES" -r "$KEYS" -n 200000 -t set,get --csv)
  echo "$csv" > "$OUT/redis-run$run.csv"
  # Columns: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  redis_tput+=("$(echo "$csv" | awk -F'"' '/^"(SET|GET)"/ {s+=$4; n++} END {print s/n}')")
  redis_p99+=("$(echo "$csv" | awk -F'"' '/^"(SET|GET)"/ {if ($14>m) m=$14} END {print m}')")
  redis_server_cpu+=("$(per_op_us $(($(ticks_of "$redis_pid") - server_before)) 400000)")
  count_children_ticks; redis_client_cpu+=("$(per_op_us $((children_ticks - client_before)) 400000)")
done
redis_median=$(printf '%s\n' "${redis_tput[@]}" | median)
redis_p99_median=$(printf '%s\n' "${redis_p99[@]}" | median)

{
  echo "# cluster_bench $(date -u +%FT%TZ): RUNS=$RUNS DURATION=${DURATION}s, $CONNECTIONS connections, ${VALUE_BYTES}-byte values, $KEYS keys, N=3 W=2 R=2, --sync $SYNC"
  echo "# cpu us/op: CPU time per request, user + system, medians; server: the three nodes together (or"
  echo "# redis-server), client: the load generator (or redis-benchmark); the preload's writes count as requests"
  printf '%-12s %14s %18s %8s %10s %10s %12s %12s\n' workload "ops/s median" "ops/s min..max" "x redis" "p99 ms" "redis p99" \
    "server cpu" "client cpu"
  printf '%-12s %14.0f %18s %8s %10s %10s %12s %12s\n' "redis" "$redis_median" "$(printf '%s\n' "${redis_tput[@]}" | minmax)" "1.00" \
    "$redis_p99_median" "$redis_p99_median" "$(printf '%s\n' "${redis_server_cpu[@]}" | median)" \
    "$(printf '%s\n' "${redis_client_cpu[@]}" | median)"
} | tee "$OUT/summary.txt"

read_percent_of() { case $1 in read) echo 100;; write) echo 0;; mixed) echo 50;; read-heavy) echo 95;; esac; }

for workload in $WORKLOADS; do
  tput=() p99=() server_cpu=() client_cpu=()
  wtput=() wp99=() wserver_cpu=() wclient_cpu=()
  for run in $(seq 1 "$RUNS"); do
    count_children_ticks; server_before=$(ticks_of "${node_pids[@]}") client_before=$children_ticks
    json=$("$bin" bench --nodes "$nodes" --workload "$workload" --duration "$DURATION" --connections "$CONNECTIONS" \
      --value-bytes "$VALUE_BYTES" --keys "$KEYS" --n 3 --w 2 --r 2 --json --key-prefix "b$run:")
    echo "$json" > "$OUT/$workload-run$run.json"
    tput+=("$(echo "$json" | json_field ops_per_second)")
    p99+=("$(echo "$json" | json_field p99)")
    requests=$(echo "$json" | json_field operations)
    [ "$workload" = write ] || requests=$((requests + KEYS))  # the preload wrote every key once
    server_cpu+=("$(per_op_us $(($(ticks_of "${node_pids[@]}") - server_before)) "$requests")")
    count_children_ticks; client_cpu+=("$(per_op_us $((children_ticks - client_before)) "$requests")")

    count_children_ticks; server_before=$(ticks_of "${node_pids[@]}") client_before=$children_ticks
    run_wrk "$(read_percent_of "$workload")" "b$run:" "$OUT/$workload-wrk-run$run.txt"
    wtput+=("$wrk_ops") wp99+=("$wrk_p99")
    wserver_cpu+=("$(per_op_us $(($(ticks_of "${node_pids[@]}") - server_before)) "$wrk_requests")")
    count_children_ticks; wclient_cpu+=("$(per_op_us $((children_ticks - client_before)) "$wrk_requests")")
  done
  row() {  # name, then the arrays' names: throughput, p99, server CPU, client CPU
    local -n tp=$2 pp=$3 sc=$4 cc=$5
    local t; t=$(printf '%s\n' "${tp[@]}" | median)
    printf '%-12s %14.0f %18s %8.2f %10s %10s %12s %12s\n' "$1" "$t" "$(printf '%s\n' "${tp[@]}" | minmax)" \
      "$(echo "$t $redis_median" | awk '{print $1/$2}')" "$(printf '%s\n' "${pp[@]}" | median)" "$redis_p99_median" \
      "$(printf '%s\n' "${sc[@]}" | median)" "$(printf '%s\n' "${cc[@]}" | median)" | tee -a "$OUT/summary.txt"
  }
  row "$workload" tput p99 server_cpu client_cpu
  row "$workload/wrk" wtput wp99 wserver_cpu wclient_cpu
done

echo
for port in "${HTTP_PORTS[@]}"; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$(pgrep -f "node --port $port" | head -1)/status" 2>/dev/null || echo "?")
  echo "node $port resident memory: ${rss} kB" | tee -a "$OUT/summary.txt"
done
