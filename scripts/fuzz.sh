#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*_fuzz.cpp) with clang in build/fuzz and runs each, one after
# the other, for SECONDS (default 180) on a scratch copy of its seed corpus (fuzz/corpus/<target>/;
# the repository is never written). Prints the executions of every target and exits non-zero if
# any target crashed, leaked, timed out or broke a property; the failing input is kept in
# build/fuzz/artifacts/. Installs missing Debian packages (clang, libclang-rt-14-dev) first.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 60 trace_header_fuzz
# Reproduce a failure: build/fuzz/fuzz/<target> build/fuzz/artifacts/<target>/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
xray_install_fuzz_dependencies

seconds=${1:-180}
[ $# -gt 0 ] && shift
jobs=${XRAY_JOBS:-2}
build=build/fuzz

echo "=== fuzz: configure and build (clang, -fsanitize=fuzzer,address,undefined) ==="
# -O1 -g1 as in the test builds: the SDK compiles in about half the time of -O2, and stacks still
# name file and line. Tests, examples and the package test are not needed here.
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DXRAY_FUZZ=ON \
  -DXRAY_BUILD_TESTS=OFF -DXRAY_BUILD_EXAMPLES=OFF -DXRAY_PACKAGE_TEST=OFF -DXRAY_INSTALL=OFF \
  -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" >/dev/null
cmake --build "$build" -j "$jobs"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for source in fuzz/*_fuzz.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi

# Largest input per target: a little above the largest realistic input, so time goes to inputs
# that matter (a header line, a rules file, a metadata document, one request's headers).
max_len() {
  case "$1" in
    daemon_address_fuzz) echo 512 ;;
    trace_header_fuzz) echo 2048 ;;
    beast_middleware_fuzz) echo 8192 ;;
    ec2_metadata_fuzz | eks_metadata_fuzz | beanstalk_config_fuzz) echo 8192 ;;
    local_rules_fuzz | sampling_targets_fuzz | ecs_metadata_fuzz | document_fuzz | aws_call_fuzz) echo 16384 ;;
    sampling_rules_fuzz) echo 32768 ;;
    *) echo 4096 ;;
  esac
}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/xray-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

failed=()
summary=()
for target in "${targets[@]}"; do
  binary="$build/fuzz/$target"
  [ -x "$binary" ] || { echo "no such fuzz target: $target" >&2; exit 2; }
  work="$scratch/$target"
  mkdir -p "$work/corpus" "$work/artifacts"
  [ -d "fuzz/corpus/$target" ] && cp -r "fuzz/corpus/$target/." "$work/corpus/"
  echo "=== fuzz: $target for ${seconds} s ==="
  status=0
  "$binary" "$work/corpus" -max_total_time="$seconds" -max_len="$(max_len "$target")" \
    -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    >"$work/log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
  corpus=$(find "$work/corpus" -type f | wc -l)
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    mkdir -p "$build/artifacts/$target"
    cp -r "$work/artifacts/." "$build/artifacts/$target/" 2>/dev/null || true
    cp "$work/log" "$build/artifacts/$target/log"
    # The report: libFuzzer's and the sanitizers' lines, without the coverage progress lines.
    grep -v -E '^#[0-9]+|NEW_FUNC' "$work/log" | tail -n 60 >&2
    echo "$target FAILED (exit $status); input and log in $build/artifacts/$target/" >&2
    summary+=("$(printf '%-24s %12s executions  FAILED' "$target" "${executions:-?}")")
  else
    summary+=("$(printf '%-24s %12s executions  %6s corpus entries' "$target" "${executions:-?}" "$corpus")")
  fi
done

echo "=== fuzz: ${seconds} s per target ==="
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "=== fuzz: failed: ${failed[*]} ===" >&2
  exit 1
fi
echo "=== fuzz: no failure ==="
