#!/usr/bin/env bash
# What one request costs the whole machine, ours beside Redis's, in the same run: busy CPU time
# (/proc/stat), context switches and system calls (`perf stat -a`) per request, around the load
# generator's run, so the load generator counts on both sides: wrk against a fresh three-node cluster, redis-benchmark against
# redis-server). Same settings as bench/cluster_bench.sh: 64 connections, 100-byte values, 10,000
# keys, 50/50 reads and writes, N=3 W=2 R=2. Needs root or perf_event_paranoid <= 0 for -a.
#
#   bench/per_request.sh                    # --sync always, 3 runs of 10 s each, alternating
#   SYNC=none RUNS=1 bench/per_request.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
SYNC=${SYNC:-always}
CONNECTIONS=64 VALUE_BYTES=100 KEYS=10000
HTTP_PORTS=(7111 7112 7113)
REDIS_PORT=7389
command -v perf > /dev/null || { echo "per_request.sh needs perf (Debian: linux-perf)" >&2; exit 1; }

source bench/lib.sh
bench_begin per-request
start_cluster --sync "$SYNC"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no > "$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping > /dev/null 2>&1 && break; sleep 0.1; done
# The keys the reads ask for.
"$bin" bench --nodes "$nodes" --workload read --duration 5 --connections 16 --value-bytes "$VALUE_BYTES" --keys "$KEYS" \
  --key-prefix p: > /dev/null 2>&1 || true

# Runs the command that follows (in this shell) while perf stat counts the whole machine; sets
# counts to "cpu_ms context_switches syscalls": busy CPU time (user, system, interrupts: /proc/stat,
# all cores) and perf's counts.
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
counted() {
  local before after perf_pid
  perf stat -a -x, -e context-switches,raw_syscalls:sys_enter -o "$work/stat" -- sleep 3600 2> /dev/null &
  perf_pid=$!
  pids+=("$perf_pid")  # stopped with the rest if the load fails
  sleep 0.3  # perf's counters are set up
  before=$(busy_ticks)
  "$@" > "$work/load.out" 2>&1
  after=$(busy_ticks)
  pkill -P "$perf_pid" sleep  # perf stat reports once its command ends
  wait "$perf_pid" || true
  counts=$(awk -F, -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" '$3 == "context-switches" {x=$1}
    $3 == "raw_syscalls:sys_enter" {s=$1} END {print t * 1000 / hz, x, s}' "$work/stat")
}

printf '%-8s %10s %12s %12s %12s\n' run "ops" "cpu us/op" "ctxsw/op" "syscalls/op"
for run in $(seq 1 "$RUNS"); do
  counted run_wrk 50 p: "$work/wrk-run$run.txt"
  read -r cpu ctx sys <<< "$counts"
  printf '%-8s %10s %12.1f %12.2f %12.2f\n' "ours$run" "$wrk_requests" "$(echo "$cpu $wrk_requests" | awk '{print $1*1000/$2}')" \
    "$(echo "$ctx $wrk_requests" | awk '{print $1/$2}')" "$(echo "$sys $wrk_requests" | awk '{print $1/$2}')"
  counted redis-benchmark -p "$REDIS_PORT" -c "$CONNECTIONS" -d "$VALUE_BYTES" -r "$KEYS" -n 400000 -t set,get -q
  read -r cpu ctx sys <<< "$counts"
  printf '%-8s %10s %12.1f %12.2f %12.2f\n' "redis$run" 800000 "$(echo "$cpu" | awk '{print $1*1000/800000}')" \
    "$(echo "$ctx" | awk '{print $1/800000}')" "$(echo "$sys" | awk '{print $1/800000}')"
done
