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

# The machine's busy CPU time (user, system, interrupts: /proc/stat, all cores) in ms, and perf
# stat's counts, for the command that follows: "cpu_ms context_switches syscalls".
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
counted() {
  local before after
  before=$(busy_ticks)
  perf stat -a -x, -e context-switches,raw_syscalls:sys_enter -o "$work/stat" -- "$@" > "$work/load.out" 2>&1
  after=$(busy_ticks)
  awk -F, -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" '$3 == "context-switches" {x=$1} $3 == "raw_syscalls:sys_enter" {s=$1}
    END {print t * 1000 / hz, x, s}' "$work/stat"
}
wrk_all() {
  local port i=0
  for port in "${HTTP_PORTS[@]}"; do
    KEYS=$KEYS VALUE_BYTES=$VALUE_BYTES READ_PERCENT=50 PREFIX=p: N=3 R=2 W=2 wrk -t1 -c$(( CONNECTIONS / 3 + (i < CONNECTIONS % 3 ? 1 : 0) )) \
      -d"${DURATION}s" -s bench/wrk_mixed.lua "http://127.0.0.1:$port" &
    i=$((i + 1))
  done
  wait
}
export -f wrk_all
export KEYS VALUE_BYTES CONNECTIONS DURATION
ports=${HTTP_PORTS[*]}

printf '%-8s %10s %12s %12s %12s\n' run "ops" "cpu us/op" "ctxsw/op" "syscalls/op"
for run in $(seq 1 "$RUNS"); do
  read -r cpu ctx sys < <(counted bash -c "HTTP_PORTS=($ports); $(declare -f wrk_all); wrk_all")
  ops=$(grep -h WRK_JSON "$work/load.out" | sed -E 's/.*"requests":([0-9]+).*/\1/' | awk '{s+=$1} END {print s}')
  printf '%-8s %10s %12.1f %12.2f %12.2f\n' "ours$run" "$ops" "$(echo "$cpu $ops" | awk '{print $1*1000/$2}')" \
    "$(echo "$ctx $ops" | awk '{print $1/$2}')" "$(echo "$sys $ops" | awk '{print $1/$2}')"
  read -r cpu ctx sys < <(counted redis-benchmark -p "$REDIS_PORT" -c "$CONNECTIONS" -d "$VALUE_BYTES" -r "$KEYS" -n 400000 -t set,get -q)
  printf '%-8s %10s %12.1f %12.2f %12.2f\n' "redis$run" 800000 "$(echo "$cpu" | awk '{print $1*1000/800000}')" \
    "$(echo "$ctx" | awk '{print $1/800000}')" "$(echo "$sys" | awk '{print $1/800000}')"
done
