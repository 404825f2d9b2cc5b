#!/usr/bin/env bash
# The RESP front end under redis-benchmark: a fresh three-node cluster (N=3 R=2 W=2, RocksDB) with
# --sync always and with --sync none, against a redis-server started here, in the same run and
# with the same client settings (64 connections, 100-byte values, 10,000 keys, SET and GET), each
# without pipelining and with 16 commands pipelined per connection (-P 16). Prints requests per
# second and our ratio to Redis's. Everything it starts it stops, also on failure or Ctrl-C.
#
#   bench/resp.sh                      # 200,000 requests per test
#   REQUESTS=20000 bench/resp.sh       # a quick smoke run
#   MINIDYNAMO_BIN=build/bin/minidynamo bench/resp.sh   # measure a built binary (bench/lib.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${REQUESTS:-200000}
SYNCS=${SYNCS:-"always none"}
HTTP_PORTS=(7201 7202 7203)  # RESP on 7204-7206, peers on 8201-8203
REDIS_PORT=7207
CLIENT_FLAGS=(-t set,get -c 64 -d 100 -r 10000 -n "$REQUESTS" --csv)

source bench/lib.sh
bench_begin resp

# Requests per second of SET and GET ("SET GET") from redis-benchmark --csv on port $1, flags $2...
rps() {
  local port=$1
  shift
  redis-benchmark -h 127.0.0.1 -p "$port" "${CLIENT_FLAGS[@]}" "$@" 2>/dev/null |
    awk -F'"' '/^"SET"/ {s=$4} /^"GET"/ {g=$4} END {printf "%.0f %.0f\n", s, g}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no > "$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping > /dev/null 2>&1 && break; sleep 0.1; done

nodes=$(printf '127.0.0.1:%s,' "${HTTP_PORTS[@]}"); nodes=${nodes%,}
echo "redis-benchmark ${CLIENT_FLAGS[*]} [-P 16] against node 1's RESP port and redis-server; requests/s"
printf '%-7s %-9s %-4s %10s %10s %7s\n' sync pipeline op ours redis ratio
for sync in $SYNCS; do
  cluster_pids=()
  for port in "${HTTP_PORTS[@]}"; do
    # shellcheck disable=SC2086  # a list of flags (bench/lib.sh)
    "$bin" node --port "$port" --nodes "$nodes" --data-dir "$work/$sync/node_$port" --log-level warn --sync "$sync" \
      --resp-port $((port + 3)) --grpc-port 0 $cluster_node_flags > "$work/node_$port-$sync.log" 2>&1 &
    pids+=($!) cluster_pids+=($!)
  done
  for port in "${HTTP_PORTS[@]}"; do
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" > /dev/null && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$port/health" > /dev/null || { cat "$work/node_$port-$sync.log"; exit 1; }
  done
  for pipeline in 1 16; do
    read -r redis_set redis_get < <(rps "$REDIS_PORT" -P "$pipeline")
    read -r ours_set ours_get < <(rps $((HTTP_PORTS[0] + 3)) -P "$pipeline")
    printf '%-7s %-9s %-4s %10s %10s %7s\n' "$sync" "$pipeline" SET "$ours_set" "$redis_set" "$(ratio "$ours_set" "$redis_set")"
    printf '%-7s %-9s %-4s %10s %10s %7s\n' "$sync" "$pipeline" GET "$ours_get" "$redis_get" "$(ratio "$ours_get" "$redis_get")"
  done
  kill -TERM "${cluster_pids[@]}"
  wait "${cluster_pids[@]}" 2>/dev/null || true
done
