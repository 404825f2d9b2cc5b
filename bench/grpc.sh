#!/usr/bin/env bash
# The gRPC front end under load beside the HTTP API, in one run against one fresh three-node
# cluster (durable RocksDB, --sync always): the same workloads, key space, value size, quorums and
# calls in flight through `minidynamo bench` (HTTP, one connection per request in flight) and
# build/bin/grpc_bench (gRPC, the calls multiplexed over --connections channels). Prints each
# workload's median throughput over RUNS runs, gRPC's as a ratio of HTTP's, the p99s, and the CPU
# time one request costs the three nodes together (user + system; the preload's writes count as
# requests): the runs are CPU-bound, so that cost is what decides the ratio.
# Everything it starts it stops, also on failure or Ctrl-C.
#
#   bench/grpc.sh                          # 3 runs of each workload, 10 s each
#   RUNS=1 DURATION=3 bench/grpc.sh        # a quick smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
WORKLOADS=${WORKLOADS:-"mixed write read"}
IN_FLIGHT=64 GRPC_CONNECTIONS=${GRPC_CONNECTIONS:-8} VALUE_BYTES=100 KEYS=10000
HTTP_PORTS=(7211 7212 7213)  # gRPC on each + 2000 (the default), peers + 1000
OUT=${OUT:-bench/results/grpc}

source bench/lib.sh
bench_begin grpc
cmake --build build --target grpc_bench > /dev/null
mkdir -p "$OUT"
start_cluster --sync always
grpc_nodes=$(printf '127.0.0.1:%s,' $((HTTP_PORTS[0] + 2000)) $((HTTP_PORTS[1] + 2000)) $((HTTP_PORTS[2] + 2000)))
grpc_nodes=${grpc_nodes%,}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
node_pids=("${pids[@]}")
# Microseconds of the nodes' CPU per request, from their ticks before a run, its JSON and the workload.
cpu_per_op() {
  local requests
  requests=$(echo "$2" | json_field operations)
  [ "$3" = write ] || requests=$((requests + KEYS))  # the preload wrote every key once
  awk -v t="$(($(ticks_of "${node_pids[@]}") - $1))" -v n="$requests" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%.0f", t / hz * 1e6 / n}'
}

{
  echo "# grpc.sh $(date -u +%FT%TZ): RUNS=$RUNS DURATION=${DURATION}s, $IN_FLIGHT requests in flight (HTTP: $IN_FLIGHT connections; gRPC: $GRPC_CONNECTIONS channels), ${VALUE_BYTES}-byte values, $KEYS keys, N=3 W=2 R=2, --sync always"
  echo "# cpu us/op: the three nodes' CPU time per request, medians"
  printf '%-10s %14s %14s %8s %12s %12s %14s %14s\n' workload "http ops/s" "grpc ops/s" "x http" "http p99 ms" \
    "grpc p99 ms" "http cpu us/op" "grpc cpu us/op"
} | tee "$OUT/summary.txt"
for workload in $WORKLOADS; do
  http=() grpc=() http_p99=() grpc_p99=() http_cpu=() grpc_cpu=()
  for run in $(seq 1 "$RUNS"); do
    before=$(ticks_of "${node_pids[@]}")
    json=$("$bin" bench --nodes "$nodes" --workload "$workload" --duration "$DURATION" --connections "$IN_FLIGHT" \
      --value-bytes "$VALUE_BYTES" --keys "$KEYS" --n 3 --w 2 --r 2 --json --key-prefix "h$run:")
    echo "$json" > "$OUT/http-$workload-run$run.json"
    http+=("$(echo "$json" | json_field ops_per_second)") http_p99+=("$(echo "$json" | json_field p99)")
    http_cpu+=("$(cpu_per_op "$before" "$json" "$workload")")
    before=$(ticks_of "${node_pids[@]}")
    json=$(build/bin/grpc_bench --nodes "$grpc_nodes" --workload "$workload" --duration "$DURATION" \
      --connections "$GRPC_CONNECTIONS" --in-flight "$IN_FLIGHT" --value-bytes "$VALUE_BYTES" --keys "$KEYS" \
      --n 3 --w 2 --r 2 --key-prefix "g$run:")
    echo "$json" > "$OUT/grpc-$workload-run$run.json"
    grpc+=("$(echo "$json" | json_field ops_per_second)") grpc_p99+=("$(echo "$json" | json_field p99)")
    grpc_cpu+=("$(cpu_per_op "$before" "$json" "$workload")")
  done
  h=$(printf '%s\n' "${http[@]}" | median) g=$(printf '%s\n' "${grpc[@]}" | median)
  printf '%-10s %14.0f %14.0f %8.2f %12s %12s %14s %14s\n' "$workload" "$h" "$g" "$(echo "$g $h" | awk '{print $1/$2}')" \
    "$(printf '%s\n' "${http_p99[@]}" | median)" "$(printf '%s\n' "${grpc_p99[@]}" | median)" \
    "$(printf '%s\n' "${http_cpu[@]}" | median)" "$(printf '%s\n' "${grpc_cpu[@]}" | median)" | tee -a "$OUT/summary.txt"
done
