#!/usr/bin/env bash
# Builds and runs every test (unit, integration, package) three times: a plain -Werror build, then
# ASan+UBSan, then TSan; then a fuzz smoke (every libFuzzer target for XRAY_FUZZ_SMOKE_SECONDS,
# default 10, through scripts/fuzz.sh, which installs clang only then). Installs missing Debian
# packages first, and from npm dynalite (tests/dynalite) for the AWS-call tests and the checkers
# of deploy/ (tests/deploy).
# Usage: scripts/test.sh [plain|asan|tsan|fuzz]...
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
xray_install_dependencies
xray_install_npm_test_tools
# The AWS-call tests run against dynalite: here a missing dynalite fails them instead of skipping.
export XRAY_REQUIRE_DYNALITE=1
# Likewise the deploy/ checks (ctest deploy_files, plain build only) and their npm tools.
export XRAY_REQUIRE_DEPLOY_TOOLS=1
# And the xray-local console's browser test (plain build) without Chromium.
export XRAY_REQUIRE_CHROMIUM=1

variants=("$@")
[ ${#variants[@]} -eq 0 ] && variants=(plain asan tsan fuzz)
jobs=${XRAY_JOBS:-2}

for variant in "${variants[@]}"; do
  if [ "$variant" = fuzz ]; then
    echo "=== fuzz: smoke ==="
    XRAY_JOBS="$jobs" scripts/fuzz.sh "${XRAY_FUZZ_SMOKE_SECONDS:-10}"
    continue
  fi
  build="build/test-$variant"
  # The gRPC interceptors are built and tested in every build (libgrpc++-dev is in XRAY_PACKAGES).
  flags=(-G Ninja -DXRAY_WERROR=ON -DXRAY_WITH_GRPC=ON)
  # Every build at -O1 with line tables only (-g1): stacks still name file and line, and the three
  # builds compile in about half the time of -O2 or full -g (ASan+UBSan most of all).
  flags+=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1")
  case "$variant" in
    # The xray-local console's browser test runs here only, so Chromium is installed here only.
    plain) xray_install_dependencies "${XRAY_BROWSER_PACKAGES[@]}" ;;
    # The package test builds an unsanitized consumer and the examples are smoke tests: both run
    # in the plain build only.
    asan) flags+=("-DXRAY_SANITIZE=address;undefined" -DXRAY_PACKAGE_TEST=OFF -DXRAY_BUILD_EXAMPLES=OFF) ;;
    tsan) flags+=(-DXRAY_SANITIZE=thread -DXRAY_PACKAGE_TEST=OFF -DXRAY_BUILD_EXAMPLES=OFF) ;;
    *) echo "unknown variant: $variant (plain, asan, tsan or fuzz)" >&2; exit 2 ;;
  esac
  echo "=== $variant: configure and build ==="
  cmake -S . -B "$build" "${flags[@]}" >/dev/null
  cmake --build "$build" -j "$jobs"
  echo "=== $variant: test ==="
  (
    export XRAY_TEST_VARIANT="$variant"
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    # Children of fork() that start threads are tested on purpose (toolchain notes). The
    # suppressions cover only reports made entirely inside Debian's gRPC and Abseil libraries,
    # which are not TSan-built (see the file).
    export TSAN_OPTIONS="die_after_fork=0:halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan_suppressions.txt"
    ctest --test-dir "$build" -j "$jobs" --output-on-failure --timeout 600
  )
done
echo "=== all tests passed: ${variants[*]} ==="
