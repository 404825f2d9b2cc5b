#!/usr/bin/env bash
# What recording metrics (GET /metrics) costs on the request path: this build against a baseline
# binary built without them, in one run, alternating (baseline, metrics, then metrics, baseline,
# ...) so that drift on a shared machine hits both alike. Each measurement is a fresh three-node
# cluster (RocksDB, --sync always) and the 50/50 read/write load of `minidynamo bench` from this
# build's client; it reports ops/s and the nodes' CPU per request, medians and the ratio.
# Everything it starts it stops, also on failure or Ctrl-C.
#
#   git worktree add /tmp/md-base 6a5614a && (cd /tmp/md-base && BUILD_TARGETS=minidynamo scripts/build.sh)  # no metrics yet
#   BASELINE=/tmp/md-base/build/bin/minidynamo bench/metrics_cost.sh
#   RUNS=2 DURATION=5 BASELINE=... bench/metrics_cost.sh   # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BASELINE:?set BASELINE to a minidynamo binary built without metrics (see above)}"
RUNS=${RUNS:-4}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
HTTP_PORTS=(7211 7212 7213)

source bench/lib.sh
bench_begin metrics
client=$bin

# measure LABEL BINARY: appends "label ops/s cpu_us/op" to $work/rows.
measure() {
  rm -rf "$work"/node_*
  bin=$2
  pids=()
  start_cluster --sync always
  local before; before=$(ticks_of "${pids[@]}")
  "$client" bench --nodes "$nodes" --connections "$CONNECTIONS" --duration "$DURATION" --workload mixed --json \
    > "$work/bench.json"
  local cpu=$(($(ticks_of "${pids[@]}") - before))
  kill -TERM "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true; pids=()
  python3 - "$work/bench.json" "$1" "$cpu" "$(getconf CLK_TCK)" >> "$work/rows" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
label, cpu, hz = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
us = cpu / hz * 1e6 / b["operations"]
print(label, f'{b["ops_per_second"]:.0f}', f"{us:.1f}")
print(f"{label:8} {b['ops_per_second']:7.0f} ops/s  cpu {us:5.1f} us/op  errors {sum(b['errors'].values())}", file=sys.stderr)
PY
}

: > "$work/rows"
echo "metrics_cost.sh: $RUNS runs x {baseline, metrics}, $DURATION s each, $CONNECTIONS connections" >&2
for run in $(seq 1 "$RUNS"); do
  if [ $((run % 2)) -eq 1 ]; then measure baseline "$BASELINE"; measure metrics "$client"
  else measure metrics "$client"; measure baseline "$BASELINE"; fi
done

python3 - "$work/rows" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
print(f"{'metric':10} {'baseline':>10} {'metrics':>10} {'ratio':>7}")
for i, metric in ((1, "ops/s"), (2, "CPU us/op")):
    med = {label: statistics.median(float(r[i]) for r in rows if r[0] == label) for label in ("baseline", "metrics")}
    print(f"{metric:10} {med['baseline']:10.1f} {med['metrics']:10.1f} {med['metrics'] / med['baseline']:7.3f}")
PY
