#!/usr/bin/env bash
# What `--security on` costs a request: one node (N=R=W=1, --sync none) with TLS on every port,
# security off and on alternating, the same wrk load over HTTPS (bench/wrk_mixed.lua: 50/50, 64
# connections, reads of keys never written, so they answer 404 after the gate has run); with
# security on, every request carries the admin's Basic credentials, which the gate checks with
# scrypt once and then by the keyed digest it remembers (docs/security.md). Prints the node's CPU
# per request and requests per second for each run.
#
#   bench/gate_cost.sh                 # 3 pairs of 8 s runs
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
DURATION=${DURATION:-8}
PORT=7161

source bench/lib.sh
bench_begin gate-cost
scripts/make-certs.sh "$work/certs" node1 > /dev/null
printf 'bench-password' > "$work/admin-password"
hz=$(getconf CLK_TCK)

# One run: starts a fresh node with the flags given, loads it, prints "requests/s cpu_us_per_request".
run() {
  local security=$1 data="$work/data-$RANDOM" authorization="" admin=()
  [ "$security" = on ] && admin=(--admin-password-file "$work/admin-password")
  "$bin" node --port "$PORT" --nodes "127.0.0.1:$PORT" --data-dir "$data" --log-level warn --sync none \
    --tls-cert "$work/certs/node1.pem" --tls-key "$work/certs/node1.key" --tls-ca "$work/certs/ca.pem" \
    --security "$security" "${admin[@]}" > "$work/node.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do curl -sf --cacert "$work/certs/ca.pem" "https://127.0.0.1:$PORT/health" > /dev/null && break; sleep 0.1; done
  if [ "$security" = on ]; then
    authorization="Basic $(printf 'admin:bench-password' | base64)"
    # One request first, so that the password's scrypt is behind us: the gate remembers it, and
    # 64 connections presenting it at once would otherwise queue for scrypt past wrk's timeout.
    curl -sf --cacert "$work/certs/ca.pem" -H "Authorization: $authorization" "https://127.0.0.1:$PORT/kv/warm" -o /dev/null \
      -w '' || [ $? = 22 ]  # 404: the key does not exist
  fi
  local before after line requests
  before=$(ticks_of "$pid")
  line=$(AUTHORIZATION=$authorization KEYS=10000 PREFIX=g: N=1 R=1 W=1 \
    wrk -t1 -c64 -d"${DURATION}s" -s bench/wrk_mixed.lua "https://127.0.0.1:$PORT" | grep WRK_JSON)
  after=$(ticks_of "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$line" | grep -q '"errors":0,' || { echo "wrk saw socket errors: $line" >&2; exit 1; }
  requests=$(echo "$line" | json_field requests)
  awk -v r="$requests" -v d="$DURATION" -v t=$((after - before)) -v hz="$hz" 'BEGIN {printf "%.0f %.1f\n", r / d, t / hz * 1e6 / r}'
}

printf '%-4s %-9s %12s %16s\n' run security "requests/s" "cpu us/request"
for i in $(seq 1 "$RUNS"); do
  for security in off on; do
    read -r rps cpu < <(run "$security")
    printf '%-4s %-9s %12s %16s\n' "$i" "$security" "$rps" "$cpu"
  done
done
