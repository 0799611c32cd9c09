#!/usr/bin/env bash
# helloworld_ab.sh: what tracing costs a whole service, end to end: examples/helloworld (Release)
# under ApacheBench on GET /helloworld, with tracing off, at default sampling, and with every
# request sampled, and the loss in requests/s against tracing off.
#
#   bench/helloworld_ab.sh [build-dir]       (default build/bench)
#
#   disabled      AWS_XRAY_SDK_ENABLED=false: the same binary, every SDK call a no-op
#   default       the default sampling rule (1/s, then 5%)
#   all-sampled   each request carries an upstream `X-Amzn-Trace-Id: Root=...;Sampled=1` (ab -H)
#
# Each run starts a fresh server (documents to a UDP receiver on 127.0.0.1 that this script starts
# and that reads and discards them), warms it with AB_WARMUP requests, then measures
# `ab -k -c AB_CONCURRENCY -n AB_REQUESTS` (defaults 4 and 30000). The three configurations are
# interleaved, AB_RUNS (default 3) rounds, so a change of load touches all three alike; the figure
# is the median of the rounds.
#
# ab and the server share the machine's cores, and on a 2-core VM where the scheduler puts them
# moves requests/s by tens of percent from one run to the next (a wake-up across cores costs far
# more than one on the same core). AB_CPUS=0 runs both on CPU 0 only: steadier (and here faster),
# and the other core is left to whatever else runs. Read the figures with the load
# printed next to them.
#
# HELLOWORLD=<binary> measures that build of the server instead of building one (to compare a copy
# kept from before a change with the current one, in the same sitting).
#
# Needs ab (Debian apache2-utils: installed with apt-get when missing) and python3 (the receiver).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/bench}"
requests="${AB_REQUESTS:-30000}"
concurrency="${AB_CONCURRENCY:-4}"
runs="${AB_RUNS:-3}"
warmup="${AB_WARMUP:-3000}"
upstream_header='X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1'

fail() {
  echo "helloworld_ab.sh: $*" >&2
  exit 1
}

if ! command -v ab >/dev/null; then
  echo "== installing apache2-utils (ab)"
  command -v apt-get >/dev/null || fail "ab is missing and there is no apt-get: install apache2-utils"
  sudo_cmd=()
  [[ "$(id -u)" == 0 ]] || sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y apache2-utils >/dev/null ||
    { "${sudo_cmd[@]}" apt-get update >/dev/null &&
      DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y apache2-utils >/dev/null; } ||
    fail "apt-get install apache2-utils failed"
fi
command -v python3 >/dev/null || fail "python3 is missing (the receiver)"
# AB_CPUS=0 (a taskset list) runs ab and the server on those CPUs only.
pin=()
if [[ -n "${AB_CPUS:-}" ]]; then
  command -v taskset >/dev/null || fail "AB_CPUS needs taskset (util-linux)"
  pin=(taskset -c "$AB_CPUS")
fi
command -v cmake >/dev/null || fail "cmake is missing"

# --- the server, Release (HELLOWORLD=<binary> runs that one instead) -----------------------------
if [[ -z "${HELLOWORLD:-}" && ! -f "$build/CMakeCache.txt" ]]; then
  echo "== configuring $build (Release, benchmarks on)"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXRAY_BUILD_BENCHMARKS=ON
fi
if [[ -n "${HELLOWORLD:-}" ]]; then
  server="$HELLOWORLD"  # another build of it (e.g. a copy from before a change), used as it is
else
  grep -q '^CMAKE_BUILD_TYPE:[A-Z]*=Release$' "$build/CMakeCache.txt" ||
    fail "$build is not a Release build: pass another folder, or reconfigure it with -DCMAKE_BUILD_TYPE=Release"
  echo "== building helloworld"
  cmake --build "$build" --target helloworld
  server="$build/examples/helloworld/helloworld"
fi
[[ -x "$server" ]] || fail "$server was not built (XRAY_BUILD_EXAMPLES off?)"

# --- the receiver, and the servers, stopped by PID -----------------------------------------------
work="$(mktemp -d)"
receiver_pid=""
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
  if [[ -n "$receiver_pid" ]]; then kill "$receiver_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work/receiver-port" >"$work/received" 2>&1 <<'EOF' &
# Reads and discards datagrams on 127.0.0.1 (an OS-chosen port, written to argv[1]); counts them.
import os, signal, socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
count = 0
def stop(*_):
    print(f"received={count}", flush=True)
    os._exit(0)
signal.signal(signal.SIGTERM, stop)
with open(sys.argv[1] + ".tmp", "w") as out:
    out.write(str(sock.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    sock.recv(65536)
    count += 1
EOF
receiver_pid=$!
for _ in $(seq 100); do
  [[ -s "$work/receiver-port" ]] && break
  kill -0 "$receiver_pid" 2>/dev/null || fail "the receiver did not start: $(cat "$work/received")"
  sleep 0.1
done
[[ -s "$work/receiver-port" ]] || fail "the receiver did not report its port"
daemon="127.0.0.1:$(cat "$work/receiver-port")"

# start_server <name> [ENV=VALUE...]: a fresh helloworld on an OS-chosen port; sets server_port.
servers_started=0
start_server() {
  local name="$1"
  shift
  # A new log per server: the background job may not have truncated an old one when it is read.
  server_log="$work/server-$name-$((++servers_started))"
  env AWS_XRAY_DAEMON_ADDRESS="$daemon" "$@" "${pin[@]}" "$server" --port 0 >"$server_log" 2>&1 &
  server_pid=$!
  server_port=""
  for _ in $(seq 100); do
    server_port="$(sed -n 's/^helloworld listening on port //p' "$server_log" 2>/dev/null || true)"
    [[ -n "$server_port" ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "helloworld ($name) exited: $(cat "$server_log")"
    sleep 0.1
  done
  fail "helloworld ($name) did not report its port"
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# run_ab <name> <out> [ab options...]: requests/s of one measured run.
run_ab() {
  local name="$1" out="$2"
  shift 2
  local url="http://127.0.0.1:$server_port/helloworld"
  "${pin[@]}" ab -k -q -c "$concurrency" -n "$warmup" "$@" "$url" >"$out" 2>&1 ||
    fail "ab warm-up ($name) failed: $(tail -n 3 "$out")"
  "${pin[@]}" ab -k -q -c "$concurrency" -n "$requests" "$@" "$url" >"$out" 2>&1 ||
    fail "ab ($name) failed: $(tail -n 3 "$out")"
  local failed non2xx
  failed="$(sed -n 's/^Failed requests: *//p' "$out")"
  non2xx="$(sed -n 's/^Non-2xx responses: *//p' "$out")"
  [[ "$failed" == 0 && -z "$non2xx" ]] ||
    fail "ab ($name): $failed failed requests, ${non2xx:-0} non-2xx responses"
  sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p' "$out"
}

configs=(disabled default all-sampled)
declare -A results
echo "== ab -k -c $concurrency -n $requests /helloworld, $runs interleaved rounds${AB_CPUS:+, on CPUs $AB_CPUS} (load: $(uptime))"
for round in $(seq "$runs"); do
  for config in "${configs[@]}"; do
    case "$config" in
      disabled) start_server "$config" AWS_XRAY_SDK_ENABLED=false
                rps="$(run_ab "$config" "$work/ab-$config-$round")" ;;
      default) start_server "$config"
               rps="$(run_ab "$config" "$work/ab-$config-$round")" ;;
      all-sampled) start_server "$config"
                   rps="$(run_ab "$config" "$work/ab-$config-$round" -H "$upstream_header")" ;;
    esac
    stop_server
    results[$config]+="$rps "
    printf '   round %d  %-12s %10.0f requests/s\n' "$round" "$config" "$rps"
  done
  echo "   load after round $round: $(uptime | sed 's/.*load average/load average/')"
done

kill "$receiver_pid"
wait "$receiver_pid" 2>/dev/null || true
receiver_pid=""
echo "== documents received: $(sed -n 's/^received=//p' "$work/received")"

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
disabled="$(median <<<"${results[disabled]}")"
echo
printf '%-14s %14s %10s   %s\n' "configuration" "requests/s" "loss" "runs"
for config in "${configs[@]}"; do
  value="$(median <<<"${results[$config]}")"
  loss="$(awk -v d="$disabled" -v v="$value" 'BEGIN { printf "%.1f%%", (d - v) / d * 100 }')"
  [[ "$config" == disabled ]] && loss="-"
  printf '%-14s %14.0f %10s   %s\n' "$config" "$value" "$loss" "${results[$config]}"
done
