#!/usr/bin/env bash
# Installs the packages (scripts/setup.sh), configures and builds everything into build/.
# The binary lands at build/bin/minidynamo.
#   BUILD_TYPE=asan  ASan + UBSan build into build-asan/ (no jemalloc: the sanitizer's malloc)
#   BUILD_TYPE=tsan  TSan build into build-tsan/
#   BUILD_TYPE=<CMake build type>  into build/ (default RelWithDebInfo)
#   BUILD_TARGETS="a b"  builds only those targets (CI's sanitizer stage)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/build_type.sh
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$cmake_build_type" >/dev/null
# shellcheck disable=SC2086  # BUILD_TARGETS is a list of names
cmake --build "$build_dir" ${BUILD_TARGETS:+--target $BUILD_TARGETS}
