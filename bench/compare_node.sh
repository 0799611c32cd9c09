#!/usr/bin/env bash
# compare_node.sh: the performance issue's request on this SDK and on the official Node SDK, in one
# run, and the ratio.
#
#   bench/compare_node.sh [build-dir]        (default build/bench)
#
# The request (bench/request_bench.cpp, and bench/compare_node.js for Node): a segment from an
# upstream `Root=...;Sampled=1` header, three subsegments with one string annotation each, all
# closed and sent to a loopback receiver; and the same from a `Sampled=0` header.
#
# - C++: build-dir/bench/request_bench (configured Release with XRAY_BUILD_BENCHMARKS=ON here when
#   the folder has no build yet; rebuilt when out of date), one thread, medians of 3 repetitions.
#   It runs its own receiver. Two sampled figures: pacing off (every document serialized and sent,
#   as Node does) and default pacing (most documents dropped at the queue).
# - Node: aws-xray-sdk-core (NODE_SDK_VERSION, default 3.12.0) installed with npm into
#   build-dir/node-compare (never into the repository), documents sent to a UDP receiver this
#   script starts on 127.0.0.1 (AWS_XRAY_DAEMON_ADDRESS), process.hrtime, medians of 3 runs of at
#   least NODE_MIN_MS (default 2000) ms each.
#
# Figures are ns per request on the calling thread; the ratio is Node / C++. On a shared machine
# read them with the load printed next to them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/bench}"
node_dir="$build/node-compare"
sdk_version="${NODE_SDK_VERSION:-3.12.0}"
min_ms="${NODE_MIN_MS:-2000}"
js="$root/bench/compare_node.js"

fail() {
  echo "compare_node.sh: $*" >&2
  exit 1
}

command -v node >/dev/null || fail "node is missing (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null || fail "npm is missing (Debian: apt-get install npm)"
command -v cmake >/dev/null || fail "cmake is missing"

# --- the C++ benchmark ---------------------------------------------------------------------------
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  echo "== configuring $build (Release, benchmarks on)"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXRAY_BUILD_BENCHMARKS=ON
fi
grep -q '^CMAKE_BUILD_TYPE:[A-Z]*=Release$' "$build/CMakeCache.txt" ||
  fail "$build is not a Release build: pass another folder, or reconfigure it with -DCMAKE_BUILD_TYPE=Release"
grep -q '^XRAY_BUILD_BENCHMARKS:BOOL=ON$' "$build/CMakeCache.txt" ||
  fail "$build was configured without -DXRAY_BUILD_BENCHMARKS=ON"
echo "== building request_bench"
cmake --build "$build" --target request_bench
cpp_bench="$build/bench/request_bench"
[[ -x "$cpp_bench" ]] || fail "$cpp_bench was not built"

# --- the Node SDK, in the build folder -----------------------------------------------------------
installed_version() {
  node -e 'try { console.log(require(process.argv[1]).version) } catch (e) { console.log("") }' \
    "$node_dir/node_modules/aws-xray-sdk-core/package.json"
}
if [[ "$(installed_version)" != "$sdk_version" ]]; then
  echo "== installing aws-xray-sdk-core@$sdk_version into $node_dir"
  mkdir -p "$node_dir"
  [[ -f "$node_dir/package.json" ]] || echo '{ "private": true }' >"$node_dir/package.json"
  if ! npm install --prefix "$node_dir" --no-audit --no-fund --fetch-retries=1 \
      --fetch-timeout=30000 "aws-xray-sdk-core@$sdk_version" >"$node_dir/npm-install.log" 2>&1; then
    tail -n 15 "$node_dir/npm-install.log" >&2
    fail "npm install of aws-xray-sdk-core@$sdk_version failed: is the npm registry reachable? (log: $node_dir/npm-install.log)"
  fi
  [[ "$(installed_version)" == "$sdk_version" ]] || fail "aws-xray-sdk-core@$sdk_version did not install"
fi

# --- the receiver for the Node SDK's documents -------------------------------------------------
work="$(mktemp -d)"
receiver_pid=""
cleanup() {
  if [[ -n "$receiver_pid" ]]; then kill "$receiver_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
node "$js" receive "$work/port" >"$work/received" 2>&1 &
receiver_pid=$!
for _ in $(seq 100); do
  [[ -s "$work/port" ]] && break
  kill -0 "$receiver_pid" 2>/dev/null || fail "the receiver did not start: $(cat "$work/received")"
  sleep 0.1
done
[[ -s "$work/port" ]] || fail "the receiver did not report its port"
port="$(cat "$work/port")"

# --- both runs -----------------------------------------------------------------------------------
echo "== load before: $(uptime)"
echo "== C++: request_bench, one thread, medians of 3"
"$cpp_bench" --benchmark_filter='^BM_Request/case:[012]/.*threads:1$' --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only --benchmark_format=json >"$work/cpp.json"
# Median real time per case, in ns (Google Benchmark writes NaN for counters it cannot aggregate,
# which JSON does not have).
cpp_median() {
  node -e '
    const text = require("fs").readFileSync(process.argv[1], "utf8");
    const report = JSON.parse(text.replace(/-?\b(NaN|inf|Infinity)\b/g, "null"));
    const found = report.benchmarks.find((b) => b.aggregate_name === "median" &&
        b.run_name.startsWith(`BM_Request/case:${process.argv[2]}/`));
    if (!found) process.exit(1);
    const scale = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 }[found.time_unit];
    console.log(Math.round(found.real_time * scale));' "$work/cpp.json" "$1" ||
    fail "request_bench reported no median for case $1"
}
cpp_sampled_unpaced="$(cpp_median 1)"
cpp_sampled_paced="$(cpp_median 0)"
cpp_unsampled="$(cpp_median 2)"

echo "== Node: aws-xray-sdk-core@$sdk_version, documents to 127.0.0.1:$port, medians of 3"
node_run() {
  AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:$port" node "$js" request "$node_dir" "$1" "$min_ms" 3 \
    >"$work/node-$1" || fail "the Node run (Sampled=$1) failed"
  cat "$work/node-$1" >&2
}
node_run 1
node_run 0
node_value() { sed -n "s/^$2=//p" "$work/node-$1"; }
node_sampled="$(node_value 1 ns_per_request)"
node_unsampled="$(node_value 0 ns_per_request)"

kill "$receiver_pid"
wait "$receiver_pid" 2>/dev/null || true
receiver_pid=""
echo "== Node documents: $(node_value 1 requests) sampled requests, $(sed -n 's/^received=//p' "$work/received") documents received"
echo "== load after: $(uptime)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
echo
printf '%-52s %12s %12s %8s\n' "request (ns per request, one thread)" "C++" "Node" "Node/C++"
printf '%-52s %12s %12s %8s\n' "sampled, every document sent (C++ pacing off)" \
  "$cpp_sampled_unpaced" "$node_sampled" "$(ratio "$node_sampled" "$cpp_sampled_unpaced")"
printf '%-52s %12s %12s %8s\n' "sampled, C++ default pacing (mostly dropped)" \
  "$cpp_sampled_paced" "$node_sampled" "$(ratio "$node_sampled" "$cpp_sampled_paced")"
printf '%-52s %12s %12s %8s\n' "unsampled (upstream Sampled=0)" \
  "$cpp_unsampled" "$node_unsampled" "$(ratio "$node_unsampled" "$cpp_unsampled")"
