# Starts dynalite (tests/dynalite/server.js, installed by xray_install_npm_test_tools) on a free
# loopback port, for scripts/demo.sh and the dynamodb_demo smoke test. Sourced.
#   start_dynalite REPO_ROOT LOG_FILE   sets DYNALITE_PID and DYNALITE_ENDPOINT
#   stop_dynalite                       stops it by PID
start_dynalite() {
  local root=$1 log=$2 port=""
  node "$root/tests/dynalite/server.js" --no-stdin >"$log" 2>&1 &
  DYNALITE_PID=$!
  for _ in $(seq 200); do
    port=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$log" 2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.05
  done
  if [ -z "$port" ]; then
    echo "dynalite did not start:" >&2
    cat "$log" >&2
    stop_dynalite
    return 1
  fi
  DYNALITE_ENDPOINT="http://127.0.0.1:$port/"
}

stop_dynalite() {
  [ -n "${DYNALITE_PID:-}" ] || return 0
  kill -TERM "$DYNALITE_PID" 2>/dev/null || true
  wait "$DYNALITE_PID" 2>/dev/null || true
  DYNALITE_PID=""
}
