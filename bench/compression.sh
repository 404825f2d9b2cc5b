#!/usr/bin/env bash
# Compression on (--compression auto) against off, in one run: a fresh three-node cluster
# (RocksDB, --sync none so the disk does not hide the CPU cost) per measurement, the two settings
# alternating (auto, off, then off, auto, ...) so that drift on a shared machine hits both alike.
# Two loads: JSON documents of 1-16 KiB written to fresh keys (`minidynamo bench --values json`),
# and the worst case, 100-byte incompressible values in the 50/50 read/write mix. For each it
# reports, as the median of the runs and the ratio auto/off:
#   ops/s           the bench's throughput
#   peer B/op       bytes the nodes sent each other (socket bytes, all nodes) per request
#   CPU us/op       CPU time of the three nodes per request
#   disk B/key      bytes of SST files per key and replica, after the nodes stopped (a clean stop
#                   flushes the memtable); random100 overwrites its 10,000 keys, and every version
#                   written stays in the SSTs until a compaction, so there it is an upper bound
# Everything it starts it stops, also on failure or Ctrl-C.
#
#   bench/compression.sh                      # 3 runs of each, 10 s each
#   RUNS=1 DURATION=3 bench/compression.sh    # a quick smoke run
#   LOADS=random100 MIN_BYTES=0 bench/compression.sh   # one load; compress whatever shrinks
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
MIN_BYTES=${MIN_BYTES:-512}  # --compression-min-bytes of the auto runs
LOADS=${LOADS:-"json random100"}
HTTP_PORTS=(7201 7202 7203)

source bench/lib.sh
bench_begin compression

counter_sum() {  # a /cluster counter summed over the nodes
  local port total=0
  for port in "${HTTP_PORTS[@]}"; do
    total=$((total + $(curl -sf "http://127.0.0.1:$port/cluster" | python3 -c "import json,sys; print(json.load(sys.stdin)['counters']['$1'])")))
  done
  echo "$total"
}
sst_bytes() { find "$work" -name '*.sst' -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure MODE LOAD: one fresh cluster, one bench; appends "load mode ops/s peerB/op cpu_us/op diskB/key" to $work/rows.
measure() {
  local mode=$1 load=$2 args keys
  case "$load" in  # json: a million keys, so nearly every write is a new key (keys = writes)
    json) args=(--workload write --values json --keys 1000000) keys=0 ;;
    random100) args=(--workload mixed --values random --value-bytes 100 --keys 10000 --preload-timeout 120) keys=10000 ;;
  esac
  rm -rf "$work"/node_*
  pids=()
  start_cluster --sync none --compression "$mode" --compression-min-bytes "$MIN_BYTES"
  local before; before=$(ticks_of "${pids[@]}")
  "$bin" bench --nodes "$nodes" --connections "$CONNECTIONS" --duration "$DURATION" "${args[@]}" --json > "$work/bench.json"
  local cpu=$(($(ticks_of "${pids[@]}") - before))
  local peer; peer=$(counter_sum peer_bytes_sent)
  local compressed; compressed=$(counter_sum peer_frames_compressed_sent)
  kill -TERM "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true; pids=()
  python3 - "$work/bench.json" "$load" "$mode" "$cpu" "$peer" "$(sst_bytes)" "$compressed" "$(getconf CLK_TCK)" "$keys" \
    >> "$work/rows" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1]))
load, mode, cpu, peer, sst, compressed, hz, keys = sys.argv[2], sys.argv[3], *map(int, sys.argv[4:])
ops, writes = b["operations"], keys or b["writes"]
print(load, mode, f'{b["ops_per_second"]:.0f}', f"{peer / ops:.0f}", f"{cpu / hz * 1e6 / ops:.0f}",
      f"{sst / writes / 3:.0f}", f'{b["value_bytes_mean"]:.0f}', compressed)
print(f"{load:9} {mode:4}  {b['ops_per_second']:7.0f} ops/s  peer {peer / ops:7.0f} B/op  cpu {cpu / hz * 1e6 / ops:5.0f} us/op"
      f"  disk {sst / writes / 3:6.0f} B/key  (values {b['value_bytes_mean']:.0f} B, {compressed} frames compressed,"
      f" errors {sum(b['errors'].values())})", file=sys.stderr)
EOF
}

: > "$work/rows"
echo "compression.sh: $RUNS runs x {auto, off} x {$LOADS}, $DURATION s each, $CONNECTIONS connections, min bytes $MIN_BYTES" >&2
for run in $(seq 1 "$RUNS"); do
  order=(auto off); [ $((run % 2)) -eq 0 ] && order=(off auto)
  for load in $LOADS; do
    for mode in "${order[@]}"; do measure "$mode" "$load"; done
  done
done

python3 - "$work/rows" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
print(f"{'load':10} {'metric':12} {'auto':>10} {'off':>10} {'auto/off':>9}")
for load in dict.fromkeys(r[0] for r in rows):
    for i, metric in ((2, "ops/s"), (3, "peer B/op"), (4, "CPU us/op"), (5, "disk B/key")):
        med = {mode: statistics.median(float(r[i]) for r in rows if r[0] == load and r[1] == mode) for mode in ("auto", "off")}
        ratio = med["auto"] / med["off"] if med["off"] else float("nan")
        print(f"{load:10} {metric:12} {med['auto']:10.0f} {med['off']:10.0f} {ratio:9.3f}")
EOF
