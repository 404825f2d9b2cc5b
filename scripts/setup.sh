#!/usr/bin/env bash
# Installs every Debian package that Mini Dynamo's build, tests and benchmarks need.
# Idempotent and non-interactive: when everything is already installed it does nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git curl python3
  libboost-dev libboost-system-dev   # Asio (event loop, sockets) and Beast (HTTP)
  libssl-dev openssl                 # TLS on the client and peer ports; the openssl command makes test certificates
  librocksdb-dev                     # default storage engine
  libprotobuf-dev protobuf-compiler  # peer wire format
  libxxhash-dev                      # key hashing (XXH3) and frame checksums
  libzstd-dev liblz4-dev zlib1g-dev  # compression: peer frames (zstd, lz4), HTTP bodies (zstd, gzip)
  libjemalloc-dev                    # the binary's malloc
  rapidjson-dev                      # HTTP API JSON
  libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  redis-server redis-tools           # reference for the benchmarks; redis-cli and redis-benchmark on our RESP port
  wrk                                # an independent HTTP load generator beside ours (bench/cluster_bench.sh)
  python3-redis                      # the RESP test: a Redis client we did not write
  libgrpc++-dev protobuf-compiler-grpc  # the gRPC front end (minidynamo.v1.KeyValue)
  python3-grpcio python3-grpc-tools  # the gRPC test: a Python client, its stubs generated from our proto
  iproute2 nftables                  # multi-host test: network namespaces, a bridge, partitions
  dpkg-dev systemd python3-yaml      # the Debian package (dpkg-shlibdeps), its unit's and manifests' checks
  clang libclang-rt-14-dev           # the fuzz targets (fuzz/): clang's libFuzzer and sanitizer runtimes
  prometheus                         # the monitoring test: a real Prometheus and promtool
  chromium chromium-driver python3-selenium  # the dashboard's test in a real (headless) browser
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# redis-server's and prometheus's packages start system services; the tests start their own.
if command -v systemctl >/dev/null 2>&1; then
  $sudo systemctl disable --now redis-server prometheus >/dev/null 2>&1 || true
fi
