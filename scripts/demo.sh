#!/usr/bin/env bash
# The demo: builds the SDK, its examples and tools/xray-local (the X-Ray daemon and console for a
# developer machine), starts xray-local and runs each scenario against it, one section each:
# examples/demo_service (centralized sampling served by xray-local); examples/helloworld twice
# (upstream /call -> downstream /helloworld, joined by parent_id); examples/dynamodb against dynalite
# (a DynamoDB emulator from npm); log correlation; the gRPC greeter. Each section prints what
# xray-local received; all of it stays in the console, whose URL is printed at the end. From a
# terminal the demo then keeps xray-local running until Ctrl-C; it exits by itself when not
# interactive or with CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
XRAY_PACKAGES+=(curl)  # the demo's HTTP client
xray_install_dependencies
xray_install_npm_test_tools  # dynalite, for the DynamoDB part
source scripts/lib/dynalite.sh

build=build/demo
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXRAY_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "${XRAY_JOBS:-2}" --target xray-local demo_service helloworld dynamodb_demo \
  log_correlation grpc_greeter

port=${XRAY_DEMO_PORT:-2000}
console=127.0.0.1:${XRAY_DEMO_CONSOLE_PORT:-2080}
workdir=$(mktemp -d)
pids=()
daemon=""
cleanup() {
  stop_dynalite
  kill "${pids[@]}" ${greeter:-} 2>/dev/null || true
  [ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  rm -rf "$workdir"
}
trap cleanup EXIT

# One xray-local for every section: it prints each document as a tree and as it arrived (--json),
# and keeps them all for the console.
"$build/tools/xray-local/xray-local" --address "127.0.0.1:$port" --http "$console" --json \
  --sampling-rules examples/local_daemon/demo-sampling-rules.json >"$workdir/xray-local.out" \
  2>"$workdir/xray-local.err" &
daemon=$!
for _ in $(seq 100); do
  grep -q 'console on' "$workdir/xray-local.err" 2>/dev/null && break
  kill -0 "$daemon" 2>/dev/null || { cat "$workdir/xray-local.err" >&2; exit 1; }
  sleep 0.05
done
cat "$workdir/xray-local.err"

# What xray-local printed since the section began: section_begin, run the scenario, then
# section_received FILE once the datagrams stopped coming (its count unchanged for 0.6 s).
section_begin() { mark=$(wc -l <"$workdir/xray-local.out"); }
datagrams() { curl -s "http://$console/api/stats" | grep -o '"datagrams":[0-9]*' | cut -d: -f2 || true; }
section_received() {
  local last="" now quiet=0
  for _ in $(seq 50); do
    now=$(datagrams)
    if [ "$now" = "$last" ]; then quiet=$((quiet + 1)); else quiet=0; fi
    [ $quiet -ge 3 ] && break
    last=$now
    sleep 0.2
  done
  tail -n +$((mark + 1)) "$workdir/xray-local.out" >"$1"
}

echo "--- demo_service: 5 requests (the first continues an upstream trace; order 3 fails) ---"
echo "    sampling: centralized rules served by xray-local (examples/local_daemon/demo-sampling-rules.json)"
section_begin
AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:$port" "$build/examples/demo_service/demo_service"
section_received "$workdir/demo_service.out"
echo "--- what the daemon received ---"
grep -v '^{' "$workdir/demo_service.out" || true

echo
echo "--- helloworld: upstream (/call) -> downstream (/helloworld), traced with AWSXRay::beast/curl ---"
section_begin

# Starts helloworld on a port the OS picks (in this shell, so it can be stopped later).
start_helloworld() {
  local log=$1; shift
  env AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:$port" "$@" "$build/examples/helloworld/helloworld" --port 0 \
    >"$log" 2>&1 &
  pids+=($!)
}
# The port an instance chose, read back from its first line.
port_of() {
  for _ in $(seq 100); do
    grep -q 'listening on port' "$1" 2>/dev/null && break
    sleep 0.05
  done
  sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$1"
}
start_helloworld "$workdir/down.log" AWS_XRAY_TRACING_NAME=helloworld-downstream
down_port=$(port_of "$workdir/down.log")
start_helloworld "$workdir/up.log" AWS_XRAY_TRACING_NAME=helloworld-upstream \
  DOWNSTREAM_URL="http://127.0.0.1:$down_port/helloworld"
up_port=$(port_of "$workdir/up.log")
echo "downstream on port $down_port, upstream on port $up_port"

request() {
  echo "\$ curl $*"
  curl -s -D - "$@" | tr -d '\r' | grep -Ei '^(HTTP|x-amzn-trace-id)|^[A-Za-z]' || true
  echo
}
request "http://127.0.0.1:$up_port/helloworld"
sleep 1.1  # the default sampler takes the first request of each second (then 5%)
request "http://127.0.0.1:$up_port/call"
request -H "X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1" \
  "http://127.0.0.1:$up_port/call"
request -H "X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272794;Sampled=?" "http://127.0.0.1:$up_port/helloworld"

kill -TERM "${pids[@]}" 2>/dev/null || true  # each instance flushes its segments on SIGTERM
wait "${pids[@]}" 2>/dev/null || true
pids=()
section_received "$workdir/daemon.out"

echo "--- what the daemon received (trees) ---"
grep -v '^{' "$workdir/daemon.out" || true
echo "--- joined by parent_id ---"
# Documents are one JSON line each; keys come in a fixed order (name, id, trace_id, parent_id).
grep '^{' "$workdir/daemon.out" | while read -r doc; do
  name=$(sed -n 's/^{"name":"\([^"]*\)".*/\1/p' <<<"$doc")
  id=$(sed -n 's/^{"name":"[^"]*","id":"\([0-9a-f]*\)".*/\1/p' <<<"$doc")
  parent=$(grep -o '"parent_id":"[0-9a-f]*"' <<<"$doc" | head -1 | cut -d'"' -f4 || true)
  echo "segment $name id=$id${parent:+ parent_id=$parent}"
  if grep -q '"namespace":"remote"' <<<"$doc"; then
    # Embedded subsegments start with "name" and "id" too; the first match is the segment itself.
    grep -o '{"name":"[^"]*","id":"[0-9a-f]*"' <<<"$doc" | tail -n +2 |
      sed 's/{"name":"\([^"]*\)","id":"\([0-9a-f]*\)"/  remote subsegment \1 id=\2/'
  fi
done | tee "$workdir/summary"
for parent in $(grep -o 'parent_id=[0-9a-f]*' "$workdir/summary" | cut -d= -f2); do
  if grep -q "remote subsegment .* id=$parent" "$workdir/summary"; then
    echo "joined: the segment with parent_id=$parent is the child of remote subsegment id=$parent"
  fi
done

echo
echo "--- dynamodb_demo: DynamoDB calls (dynalite on loopback, SigV4 by libcurl) as subsegments ---"
start_dynalite "$PWD" "$workdir/dynalite.log"
section_begin
AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:$port" AWS_ACCESS_KEY_ID=AKIDXRAYTEST AWS_SECRET_ACCESS_KEY=xray-test-secret \
  "$build/examples/dynamodb/dynamodb_demo" --endpoint "$DYNALITE_ENDPOINT" --table users
section_received "$workdir/dynamodb.out"
stop_dynalite
echo "--- what dynalite saw (each request's trace header; sigv4=ok: the signature still verifies) ---"
grep '^request' "$workdir/dynalite.log"
echo "--- what the daemon received (tree) ---"
grep -v '^{' "$workdir/dynamodb.out" || true
echo "--- the PutItem and missing-table GetItem subsegments ---"
# node is there for dynalite anyway.
grep '^{' "$workdir/dynamodb.out" | node -e '
  const lines = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean);
  for (const line of lines) {
    for (const sub of JSON.parse(line).subsegments || []) {
      const aws = sub.aws || {};
      if (aws.operation === "PutItem" || aws.table_name === "no_such_table") {
        console.log(JSON.stringify(sub, null, 2));
      }
    }
  }'

echo
echo "--- log_correlation: spdlog lines with %k (trace_id@entity_id), a W3C caller's trace continued ---"
AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:$port" "$build/examples/log_correlation/log_correlation"

echo
echo "--- grpc_greeter: greeter-client -> greeter-server over gRPC, traced with AWSXRay::grpc ---"
grpc_dir=$workdir/grpc
mkdir -p "$grpc_dir"
section_begin
AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:$port" "$build/examples/grpc_greeter/grpc_greeter" server --port 0 \
  >"$grpc_dir/server.log" 2>&1 &
greeter=$!
grpc_port=$(port_of "$grpc_dir/server.log")
AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:$port" "$build/examples/grpc_greeter/grpc_greeter" client \
  --target "127.0.0.1:$grpc_port" --name demo
kill -TERM $greeter  # the server flushes its segment on SIGTERM
wait $greeter 2>/dev/null || true
greeter=""
section_received "$grpc_dir/daemon.out"
echo "--- what the daemon received (trees) ---"
grep -v '^{' "$grpc_dir/daemon.out" || true
echo "--- joined by parent_id ---"
grep '^{' "$grpc_dir/daemon.out" | node -e '
  const docs = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean).map(JSON.parse);
  const remote = {};
  for (const doc of docs) for (const sub of doc.subsegments || []) if (sub.namespace === "remote") remote[sub.id] = [doc, sub];
  for (const doc of docs) {
    const up = remote[doc.parent_id];
    if (!up) continue;
    console.log(`${up[0].name} -> remote subsegment ${up[1].name} id=${up[1].id} (${up[1].http.request.url})`);
    console.log(`  -> segment ${doc.name} parent_id=${doc.parent_id}, trace ${doc.trace_id}, status ${doc.http.response.status}`);
  }'

echo
echo "=== the console: http://$console/ (service map, traces, timelines of everything above) ==="
if [ -t 0 ] && [ -t 1 ] && [ "${CI:-}" != true ]; then
  echo "xray-local keeps running; Ctrl-C to end the demo"
  trap 'echo; exit 0' INT
  wait "$daemon" || true
fi
