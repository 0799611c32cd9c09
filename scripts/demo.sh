#!/usr/bin/env bash
# The demo: builds the SDK and its examples, starts examples/local_daemon (a stand-in for the X-Ray
# daemon that prints every trace it receives) and runs examples/demo_service against it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
xray_install_dependencies

build=build/demo
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXRAY_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "${XRAY_JOBS:-2}" --target local_daemon demo_service

port=${XRAY_DEMO_PORT:-2000}
received=$(mktemp)
"$build/examples/local_daemon/local_daemon" --address "127.0.0.1:$port" --timeout 1 >"$received" &
daemon=$!
trap 'kill $daemon 2>/dev/null || true; rm -f "$received"' EXIT
sleep 0.3

echo "--- demo_service: 4 requests (the first continues an upstream trace; order 3 fails) ---"
AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:$port" "$build/examples/demo_service/demo_service"
wait $daemon || true
echo "--- what the daemon received ---"
cat "$received"
