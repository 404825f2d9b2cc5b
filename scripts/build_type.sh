# Sourced by build.sh, test.sh and sanitizers.sh: where BUILD_TYPE builds, and how sanitized tests
# run. asan (ASan + UBSan) and tsan get build dirs of their own, so a sanitizer build never replaces
# the normal one.
case "${BUILD_TYPE:-RelWithDebInfo}" in
  asan) build_dir=build-asan cmake_build_type=Asan ;;
  tsan) build_dir=build-tsan cmake_build_type=Tsan ;;
  *) build_dir=build cmake_build_type="${BUILD_TYPE:-RelWithDebInfo}" ;;
esac
# Debian's RocksDB and libstdc++ are not built with TSan: their internal synchronisation (RocksDB's
# lock-free memtable, its write group's atomics) is invisible to it, so the accesses they make are
# not checked (ignore_noninstrumented_modules); every access our own code makes still is.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-ignore_noninstrumented_modules=1:second_deadlock_stack=1}"
