#!/usr/bin/env bash
# Installs the packages (scripts/setup.sh), configures and builds everything into build/.
# The binary lands at build/bin/minidynamo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build_type="${BUILD_TYPE:-RelWithDebInfo}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build build
