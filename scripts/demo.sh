#!/usr/bin/env bash
# The demo: builds the SDK and its examples, starts examples/local_daemon (a stand-in for the X-Ray
# daemon that prints every trace it receives) and runs examples/demo_service against it; then runs
# examples/helloworld twice (upstream /call -> downstream /helloworld), sends requests with curl and
# shows the joined trace: upstream segment, its remote subsegment, downstream segment by parent_id;
# last, examples/dynamodb against dynalite (a DynamoDB emulator from npm): the DynamoDB subsegments.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
XRAY_PACKAGES+=(curl)  # the demo's HTTP client
xray_install_dependencies
xray_install_npm_test_tools  # dynalite, for the DynamoDB part
source scripts/lib/dynalite.sh

build=build/demo
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXRAY_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "${XRAY_JOBS:-2}" --target local_daemon demo_service helloworld dynamodb_demo \
  log_correlation grpc_greeter

port=${XRAY_DEMO_PORT:-2000}
received=$(mktemp)
"$build/examples/local_daemon/local_daemon" --address "127.0.0.1:$port" --timeout 1 \
  --sampling-rules examples/local_daemon/demo-sampling-rules.json >"$received" &
daemon=$!
trap 'kill $daemon 2>/dev/null || true; rm -f "$received"' EXIT
sleep 0.3

echo "--- demo_service: 5 requests (the first continues an upstream trace; order 3 fails) ---"
echo "    sampling: centralized rules served by local_daemon (examples/local_daemon/demo-sampling-rules.json)"
AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:$port" "$build/examples/demo_service/demo_service"
wait $daemon || true
echo "--- what the daemon received ---"
cat "$received"

echo
echo "--- helloworld: upstream (/call) -> downstream (/helloworld), traced with AWSXRay::beast/curl ---"
workdir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" $daemon 2>/dev/null || true; rm -rf "$workdir" "$received"' EXIT
"$build/examples/local_daemon/local_daemon" --address "127.0.0.1:$port" --timeout 3 --json \
  >"$workdir/daemon.out" &
daemon=$!
sleep 0.3

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
wait $daemon || true

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
trap 'stop_dynalite; kill $daemon 2>/dev/null || true; rm -rf "$workdir" "$received"' EXIT
"$build/examples/local_daemon/local_daemon" --address "127.0.0.1:$port" --timeout 2 --json \
  >"$workdir/dynamodb.out" &
daemon=$!
sleep 0.3
AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:$port" AWS_ACCESS_KEY_ID=AKIDXRAYTEST AWS_SECRET_ACCESS_KEY=xray-test-secret \
  "$build/examples/dynamodb/dynamodb_demo" --endpoint "$DYNALITE_ENDPOINT" --table users
wait $daemon || true
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
"$build/examples/log_correlation/log_correlation"

echo
echo "--- grpc_greeter: greeter-client -> greeter-server over gRPC, traced with AWSXRay::grpc ---"
grpc_dir=$(mktemp -d)
trap 'kill ${greeter:-} ${daemon:-} 2>/dev/null || true; rm -rf "$grpc_dir" "$workdir" "$received"' EXIT
"$build/examples/local_daemon/local_daemon" --address "127.0.0.1:$port" --timeout 2 --json \
  >"$grpc_dir/daemon.out" &
daemon=$!
sleep 0.3
AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:$port" "$build/examples/grpc_greeter/grpc_greeter" server --port 0 \
  >"$grpc_dir/server.log" 2>&1 &
greeter=$!
grpc_port=$(port_of "$grpc_dir/server.log")
AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:$port" "$build/examples/grpc_greeter/grpc_greeter" client \
  --target "127.0.0.1:$grpc_port" --name demo
kill -TERM $greeter  # the server flushes its segment on SIGTERM
wait $greeter 2>/dev/null || true
wait $daemon || true
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
