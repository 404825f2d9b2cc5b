#!/usr/bin/env bash
# One-connection PUTs against a fresh 3-node cluster; prints the PUT p50 and each node's mean commit (write+fsync) time.
set -euo pipefail
bin=$1
work=$(mktemp -d)
ports=(7151 7152 7153)
nodes=127.0.0.1:7151,127.0.0.1:7152,127.0.0.1:7153
pids=()
for p in "${ports[@]}"; do "$bin" node --port $p --nodes $nodes --data-dir $work/n$p --log-level warn --threads 1 --sync always > $work/$p.log 2>&1 & pids+=($!); done
trap 'kill ${pids[@]} 2>/dev/null; wait 2>/dev/null; rm -rf $work' EXIT
for p in "${ports[@]}"; do for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$p/health >/dev/null && break; sleep 0.1; done; done
line=$(KEYS=1000 VALUE_BYTES=100 PREFIX=c: READ_PERCENT=0 N=3 R=2 W=2 wrk -t1 -c1 -d6s -s "$(dirname "$0")/../../wrk_mixed.lua" http://127.0.0.1:7151 | grep WRK_JSON)
p50=$(echo "$line" | sed -E 's/.*"p50_ms":([0-9.]+).*/\1/')
out="PUT p50 $p50 ms; commit mean ms:"
for p in "${ports[@]}"; do
  m=$(curl -s http://127.0.0.1:$p/metrics | awk '/^minidynamo_commit_duration_seconds_sum/{s=$2} /^minidynamo_commit_duration_seconds_count/{c=$2} END{printf "%.3f(%d)", s/c*1000, c}')
  out="$out $m"
done
echo "$out"
