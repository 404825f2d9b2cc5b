#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang, ASan + UBSan) into build-fuzz/ and, one process at a
# time, for each target: replays every crash found so far (fuzz/regressions/<target>/), then fuzzes
# for SECONDS (default 60) from its seeds (fuzz/corpus/<target>/) plus what earlier runs found
# (build-fuzz/corpus/<target>/). A crash stops nothing else: its input is kept as
# build-fuzz/crashes/<target>-crash-*, the log tail is printed and the script exits 1 at the end.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (targets: the fuzz/*_fuzzer.cc names)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
scripts/setup.sh
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in fuzz/*_fuzzer.cc; do targets+=("$(basename "$f" _fuzzer.cc)"); done
fi
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DMINIDYNAMO_FUZZ=ON >/dev/null
cmake --build build-fuzz --target "${targets[@]/#/fuzz_}"

failed=()
mkdir -p build-fuzz/crashes build-fuzz/logs
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  log="build-fuzz/logs/$t.log"
  if [ -d "fuzz/regressions/$t" ] && ! "build-fuzz/bin/fuzz_$t" "fuzz/regressions/$t"/* >"$log" 2>&1; then
    echo "fuzz: $t FAILED on a regression input (log: $log):" >&2
    tail -40 "$log" >&2
    failed+=("$t")
    continue
  fi
  TIMEFORMAT="%U %S"
  if { time "build-fuzz/bin/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 \
         -artifact_prefix="build-fuzz/crashes/$t-" "build-fuzz/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; } 2>"$log.cpu"; then
    read -r user sys <"$log.cpu"
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log")
    echo "fuzz: $t: ${runs:-?} runs, no crash, $(awk "BEGIN {printf \"%.0f\", $user + $sys}") CPU seconds"
  else
    echo "fuzz: $t FAILED (log: $log, input: build-fuzz/crashes/$t-*):" >&2
    tail -40 "$log" >&2
    failed+=("$t")
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: crashes in ${failed[*]}" >&2; exit 1; }
