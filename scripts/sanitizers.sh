#!/usr/bin/env bash
# CI's sanitizer stage (called by scripts/test.sh): builds only the tests it runs, then
#  - the unit and storage tests under ASan + UBSan (build-asan/), and
#  - the tests that race threads on purpose under TSan (build-tsan/): the durable writer, the
#    lock-free hand-off between threads (net/mailbox.h), the storage engines with their row cache, the per-key locks, and the HTTP and RESP servers with
#    their connections on I/O threads (--threads).
# Any report fails the test that caused it. The whole suite: BUILD_TYPE=asan|tsan scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# Runs the gtest executables $2... of build dir $1 (each test is labelled with its executable).
run() {
  local dir=$1
  shift
  local labels
  labels=$(IFS='|'; echo "$*")
  (cd "$dir" && ctest --output-on-failure --timeout 600 -j "$(nproc)" -L "^($labels)\$")
}

source scripts/build_type.sh  # the sanitizers' run-time options
# The socket tests (http_server_test, peer_transport_test) would build the Asio server and client
# under ASan too, doubling the stage; BUILD_TYPE=asan scripts/test.sh runs them.
asan_tests=(core_test net_test resp_test frame_test peer_codec_test storage_test storage_crash_test durable_writer_test metrics_test
            security_test)
BUILD_TYPE=asan BUILD_TARGETS="${asan_tests[*]}" scripts/build.sh
run build-asan "${asan_tests[@]}"

tsan_tests=(storage_test durable_writer_test mailbox_test metrics_test http_server_test resp_server_test)
BUILD_TYPE=tsan BUILD_TARGETS="${tsan_tests[*]}" scripts/build.sh
run build-tsan "${tsan_tests[@]}"
