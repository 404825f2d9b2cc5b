#!/usr/bin/env bash
# Installs, builds and starts the seed's local three-node cluster (HTTP on 5001-5003, peers on
# 6001-6003, durable RocksDB data in ./data/node_<port>), prints curl examples that work against
# it, and stops every node cleanly on Ctrl-C. Extra arguments go to every node (see
# `build/bin/minidynamo node --help`), e.g. scripts/run-cluster.sh --sync interval
#   --secure (first): TLS on every port and --security on (docs/security.md), with certificates
#   made in data/certs and a random password for the user admin in data/admin-password; the
#   commands printed carry the CA and the credentials.
#   CLUSTER_DATA=DIR keeps everything in DIR instead of ./data; MINIDYNAMO_BIN=PATH runs that
#   binary instead of building one (tests/netns/test_run_cluster.py uses both).
set -euo pipefail
cd "$(dirname "$0")/.."
secure=false
if [ "${1:-}" = --secure ]; then
  secure=true
  shift
fi
if [ -z "${MINIDYNAMO_BIN:-}" ]; then
  scripts/build.sh
fi

bin=${MINIDYNAMO_BIN:-build/bin/minidynamo}
data=${CLUSTER_DATA:-data}
ports=(5001 5002 5003)
nodes=$(printf '127.0.0.1:%s,' "${ports[@]}")
nodes=${nodes%,}
mkdir -p "$data"
pids=()

stop_all() {
  trap - INT TERM EXIT
  echo
  echo "stopping nodes ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

scheme=http
curl_tls=()
if $secure; then
  scheme=https
  [ -f "$data/certs/ca.pem" ] || scripts/make-certs.sh "$data/certs" node1 node2 node3
  if [ ! -f "$data/admin-password" ]; then
    (umask 077; openssl rand -base64 18 > "$data/admin-password")
  fi
  curl_tls=(--cacert "$data/certs/ca.pem")
fi
for i in "${!ports[@]}"; do
  port=${ports[$i]}
  security=()
  if $secure; then
    security=(--security on --tls-cert "$data/certs/node$((i + 1)).pem" --tls-key "$data/certs/node$((i + 1)).key"
              --tls-ca "$data/certs/ca.pem" --admin-password-file "$data/admin-password")
  fi
  "$bin" node --port "$port" --nodes "$nodes" --data-dir "$data/node_$port" "${security[@]}" "$@" \
    > "$data/node_$port.log" 2>&1 &
  pids+=($!)
done

for port in "${ports[@]}"; do
  for _ in $(seq 1 100); do
    curl -sf "${curl_tls[@]}" "$scheme://127.0.0.1:$port/health" > /dev/null && break
    if ! kill -0 "${pids[@]}" 2>/dev/null; then
      echo "a node failed to start; its log:" >&2
      tail -n 20 "$data/node_$port.log" >&2
      exit 1
    fi
    sleep 0.1
  done
done

if $secure; then
  password=$(cat "$data/admin-password")
  ca="$data/certs/ca.pem"
  cat <<EOT

Mini Dynamo is running with TLS and --security on: three nodes on 127.0.0.1:5001, :5002 and :5003
(pids ${pids[*]}). CA: $ca   User: admin, password in $data/admin-password
Logs: $data/node_<port>.log   Data: $data/node_<port>/   Binary: $bin

Try:
  curl --cacert $ca -u "admin:$password" -X PUT https://localhost:5001/kv/user123 -d '{"value": "Alice", "N": 3, "W": 2}'
  curl --cacert $ca -u "admin:$password" https://localhost:5002/kv/user123
  curl --cacert $ca https://localhost:5002/kv/user123      # 401: no credentials
  redis-cli -p 6380 --tls --cacert $ca --user admin --pass "$password" GET user123
  MINIDYNAMO_USER=admin MINIDYNAMO_PASSWORD="$password" $bin get user123 --node 127.0.0.1:5003 --tls-ca $ca
  MINIDYNAMO_USER=admin MINIDYNAMO_PASSWORD="$password" $bin user list --tls-ca $ca

Press Ctrl-C to stop the cluster.
EOT
else
  cat <<EOT

Mini Dynamo is running: three nodes on 127.0.0.1:5001, :5002 and :5003 (pids ${pids[*]}).
Logs: $data/node_<port>.log   Data: $data/node_<port>/   Binary: $bin

Try:
  curl -X PUT http://localhost:5001/kv/user123 -H "Content-Type: application/json" -d '{"value": "Alice", "N": 3, "W": 2}'
  curl -X GET http://localhost:5002/kv/user123 -H "Content-Type: application/json" -d '{"R": 2}'
  curl -X DELETE http://localhost:5003/kv/user123 -H "Content-Type: application/json" -d '{"W": 2}'
  curl http://localhost:5001/cluster
  $bin get user123 --node 127.0.0.1:5002

Press Ctrl-C to stop the cluster.
EOT
fi
wait -n "${pids[@]}" || true
echo "a node exited on its own; see $data/node_<port>.log" >&2
exit 1
