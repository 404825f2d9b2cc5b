# Sourced by build.sh and test.sh: where BUILD_TYPE builds. asan (ASan + UBSan) and tsan get
# build dirs of their own, so a sanitizer build never replaces the normal one.
case "${BUILD_TYPE:-RelWithDebInfo}" in
  asan) build_dir=build-asan cmake_build_type=Asan ;;
  tsan) build_dir=build-tsan cmake_build_type=Tsan ;;
  *) build_dir=build cmake_build_type="${BUILD_TYPE:-RelWithDebInfo}" ;;
esac
