#!/usr/bin/env bash
# Memory and disk per node after loading KEYS keys (default 1,000,000) of VALUE_BYTES (100) into a
# fresh three-node cluster (durable RocksDB, --sync always, N=3: every node holds every key).
# Reports each node's resident memory, its data directory's size, and the bytes per key beyond the
# raw key and value, on disk. Stops everything it started, also on failure or Ctrl-C.
#
#   bench/memory_bench.sh
#   KEYS=100000 bench/memory_bench.sh   # a quicker run
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${KEYS:-1000000}
VALUE_BYTES=${VALUE_BYTES:-100}
HTTP_PORTS=(7301 7302 7303)
OUT=${OUT:-bench/results}
PREFIX="m:"

source bench/lib.sh
bench_begin membench
mkdir -p "$OUT"
start_cluster
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
empty_rss=()
for pid in "${pids[@]}"; do empty_rss+=("$(rss "$pid")"); done

# A read workload first writes every key once (N=3, W=3: all three hold it when acknowledged).
started=$(date +%s)
"$bin" bench --nodes "$nodes" --workload read --keys "$KEYS" --value-bytes "$VALUE_BYTES" --duration 2 --preload-timeout 3600 \
  --n 3 --w 3 --r 2 --key-prefix "$PREFIX" --json > "$work/bench.json"
load_s=$(( $(date +%s) - started ))
# Raw data per key: the key (prefix + decimal index, averaged) plus the value.
raw=$(awk -v n="$KEYS" -v p="${#PREFIX}" -v v="$VALUE_BYTES" \
  'BEGIN {s = 0; for (d = 1; 10^(d-1) <= n - 1 || d == 1; d++) {lo = (d == 1) ? 0 : 10^(d-1); hi = (10^d < n) ? 10^d : n; s += (hi - lo) * d}; print p + s / n + v}')
{
  echo "# memory_bench $(date -u +%FT%TZ): $KEYS keys of $VALUE_BYTES bytes, N=3 (every node holds every key), --sync always; load took ${load_s}s"
  echo "# raw key + value: $(printf '%.1f' "$raw") bytes per key"
  printf '%-6s %14s %14s %18s %16s %22s\n' node "RSS empty kB" "RSS loaded kB" "RSS growth B/key" "data dir bytes" \
    "disk B/key beyond raw"
  for i in "${!pids[@]}"; do
    port=${HTTP_PORTS[$i]}
    loaded=$(rss "${pids[$i]}")
    disk=$(du -sb "$work/node_$port" | cut -f1)
    printf '%-6s %14s %14s %18.1f %16s %22.1f\n' "$port" "${empty_rss[$i]}" "$loaded" \
      "$(echo "$loaded ${empty_rss[$i]} $KEYS" | awk '{print ($1 - $2) * 1024 / $3}')" "$disk" \
      "$(echo "$disk $KEYS $raw" | awk '{print $1/$2 - $3}')"
  done
} | tee "$OUT/memory-summary.txt"
