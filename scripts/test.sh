#!/usr/bin/env bash
# Installs, builds and runs every test (unit, property, storage crash, simulation, real-process),
# then the reliability stages (CI runs them all): the unit and storage tests under ASan + UBSan and
# the concurrent ones under TSan (scripts/sanitizers.sh), and 5 s of every fuzzer (scripts/fuzz.sh).
#   scripts/test.sh -R core_test    only the matching tests of the normal build (ctest options)
#   RELIABILITY=0 scripts/test.sh    the suite without the reliability stages (they add about 9
#                                    minutes on 2 cores: docs/reliability.md)
#   BUILD_TYPE=asan scripts/test.sh  the whole suite in the ASan + UBSan build (tsan: TSan)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
source scripts/build_type.sh
(cd "$build_dir" && ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@")
if [ "${RELIABILITY:-1}" = 1 ] && [ $# -eq 0 ] && [ -z "${BUILD_TYPE:-}" ]; then
  scripts/sanitizers.sh
  scripts/fuzz.sh 5
fi
