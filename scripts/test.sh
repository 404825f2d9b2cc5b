#!/usr/bin/env bash
# Installs, builds and runs every test (unit, property, storage crash, simulation, real-process).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
cd build
ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@"
