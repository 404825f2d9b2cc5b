#!/usr/bin/env bash
# Latency on one connection, nothing else running: wrk with one connection against node 1 of a
# fresh three-node cluster (`--sync always`, N=3 R=2 W=2, 100-byte values), reads of 10,000
# preloaded keys, then writes of fresh keys, alternating; p50 and p99 of each run.
#
#   bench/one_connection.sh                 # 3 runs of each, 8 s each
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
DURATION=${DURATION:-8}
SYNC=${SYNC:-always}
KEYS=10000 VALUE_BYTES=100
HTTP_PORTS=(7141 7142 7143)

source bench/lib.sh
bench_begin one-connection
start_cluster --sync "$SYNC"
"$bin" bench --nodes "$nodes" --workload read --duration 5 --connections 16 --value-bytes "$VALUE_BYTES" --keys "$KEYS" \
  --key-prefix o: > /dev/null 2>&1 || true

echo "# one_connection $(date -u +%FT%TZ): wrk -t1 -c1 -d${DURATION}s against 127.0.0.1:${HTTP_PORTS[0]}, N=3 R=2 W=2, --sync $SYNC"
printf '%-6s %-4s %10s %10s %10s\n' op run requests "p50 ms" "p99 ms"
for run in $(seq 1 "$RUNS"); do
  for op in GET PUT; do
    line=$(KEYS=$KEYS VALUE_BYTES=$VALUE_BYTES PREFIX=o: READ_PERCENT=$([ $op = GET ] && echo 100 || echo 0) N=3 R=2 W=2 \
      wrk -t1 -c1 -d"${DURATION}s" -s bench/wrk_mixed.lua "http://127.0.0.1:${HTTP_PORTS[0]}" | grep WRK_JSON)
    echo "$line" | grep -q '"non_2xx":0,"errors":0' || { echo "wrk saw errors: $line" >&2; exit 1; }
    printf '%-6s %-4s %10s %10s %10s\n' "$op" "$run" "$(echo "$line" | json_field requests)" \
      "$(echo "$line" | json_field p50_ms)" "$(echo "$line" | json_field p99_ms)"
  done
done
