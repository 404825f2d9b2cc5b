#!/usr/bin/env bash
# What --threads buys a single node (N=R=W=1, --sync none): each run starts a fresh node with
# --threads 1, then one with --threads 2, alternating, and loads it with
#  - redis-benchmark over RESP with pipelining (-P 16, 64 connections, 100-byte values, 10,000
#    keys), SET then GET, whose client costs little per request; and redis-server with the same
#    settings in the same run, for the ratio;
#  - wrk over HTTP, 50/50, 64 connections (bench/wrk_mixed.lua: reads of 10,000 keys written
#    first, writes of fresh keys).
# Prints requests/s and, per thread of the node (its own, named after the binary, `minidynamo`; its
# I/O threads, `md-io-N`; its commit thread, `md-commit`), the CPU it spent per request: the
# busiest of the node's own and the commit thread bounds the scaling (bench/RESULTS.md, "Threads").
# Each run also prints what a request costs redis-server itself on this host, without pipelining
# (redis-benchmark, 64 connections, SET then GET): the reference for a single node's CPU per request.
#
#   bench/threads.sh                   # 3 pairs; RUNS=, REQUESTS=, DURATION= to change
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
REQUESTS=${REQUESTS:-400000}
DURATION=${DURATION:-8}
PORT=7181
RESP_PORT=$((PORT + 1379))
REDIS_PORT=7199

source bench/lib.sh
bench_begin threads
hz=$(getconf CLK_TCK)

# CPU ticks per thread name of process $1, one "name ticks" line each (threads of a name summed).
thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do echo "$(cat "$t/comm") $(awk '{print $14 + $15}' "$t/stat")"; done |
    awk '{a[$1] += $2} END {for (k in a) print k, a[k]}' | sort
}
# "name us/request ..." from two thread_ticks snapshots and a request count.
per_thread() {
  join <(echo "$1") <(echo "$2") |
    awk -v r="$3" -v hz="$hz" '$3 > $2 {printf " %s %.1f", $1, ($3 - $2) / hz * 1e6 / r}'
}
# requests/s of a redis-benchmark -q line
rps_of() { tr '\r' '\n' | grep -i "requests per second" | tail -1 | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/'; }
resp_load() { redis-benchmark -p "$1" -t "$2" -c 64 -d 100 -r 10000 -n "$REQUESTS" -P 16 -q 2>/dev/null | rps_of; }

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no > "$work/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping > /dev/null 2>&1 && break; sleep 0.1; done

run() {
  local threads=$1 data="$work/data-$RANDOM"
  "$bin" node --port "$PORT" --nodes "127.0.0.1:$PORT" --data-dir "$data" --log-level warn --sync none \
    --n 1 --r 1 --w 1 --threads "$threads" > "$work/node.log" 2>&1 &
  local pid=$! before after rps line
  pids+=("$pid")
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" > /dev/null && break; sleep 0.1; done
  for op in set get; do
    before=$(thread_ticks "$pid")
    rps=$(resp_load "$RESP_PORT" "$op")
    after=$(thread_ticks "$pid")
    printf '%-4s threads %s  RESP %-3s -P 16  %9.0f/s  x redis %.2f  cpu us/request:%s\n' "$i" "$threads" "$op" "$rps" \
      "$(awk -v a="$rps" -v b="$(resp_load "$REDIS_PORT" "$op")" 'BEGIN {print a / b}')" \
      "$(per_thread "$before" "$after" "$REQUESTS")"
  done
  "$bin" bench --nodes "127.0.0.1:$PORT" --workload read --duration 1 --keys 10000 --key-prefix t: \
    --n 1 --r 1 --w 1 > /dev/null 2>&1  # writes the keys wrk reads
  before=$(thread_ticks "$pid")
  line=$(KEYS=10000 PREFIX=t: N=1 R=1 W=1 wrk -t1 -c64 -d"${DURATION}s" -s bench/wrk_mixed.lua "http://127.0.0.1:$PORT" |
    grep WRK_JSON)
  after=$(thread_ticks "$pid")
  echo "$line" | grep -q '"non_2xx":0,"errors":0,' || { echo "wrk saw errors or misses: $line" >&2; exit 1; }
  local requests; requests=$(echo "$line" | json_field requests)
  printf '%-4s threads %s  HTTP 50/50 wrk   %9.0f/s               cpu us/request:%s\n' "$i" "$threads" \
    "$(awk -v r="$requests" -v d="$DURATION" 'BEGIN {print r / d}')" "$(per_thread "$before" "$after" "$requests")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}

# redis-server's CPU per request, SET and GET without pipelining.
redis_cost() {
  local before after
  before=$(awk '{print $14 + $15}' "/proc/$redis_pid/stat")
  redis-benchmark -p "$REDIS_PORT" -t set,get -c 64 -d 100 -r 10000 -n "$REQUESTS" -q > /dev/null 2>&1
  after=$(awk '{print $14 + $15}' "/proc/$redis_pid/stat")
  printf '%-4s redis-server, SET and GET without pipelining: cpu us/request %.1f\n' "$i" \
    "$(awk -v t=$((after - before)) -v hz="$hz" -v r=$((2 * REQUESTS)) 'BEGIN {print t / hz * 1e6 / r}')"
}

echo "host: $(nproc) cores; everything (node, load generator, redis-server) shares them"
for i in $(seq 1 "$RUNS"); do
  run 1
  run 2
  redis_cost
done
