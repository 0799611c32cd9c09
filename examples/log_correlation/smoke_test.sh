#!/usr/bin/env bash
# Runs examples/log_correlation and checks what its log lines say (see main.cpp).
set -euo pipefail
output=$("$1")
printf '%s\n' "$output"
fail() { echo "FAIL: $*" >&2; exit 1; }

# Request 1: the W3C trace id 4bf9... continued as X-Ray trace 1-<8>-<24>.
w3c=$(printf '%s\n' "$output" | sed -n 's/.*request 1: traceparent 00-\([0-9a-f]\{32\}\)-.*/\1/p')
[ -n "$w3c" ] || fail "no incoming traceparent printed"
root="1-${w3c:0:8}-${w3c:8}"
traced=$(printf '%s\n' "$output" | sed -n '/request 1/,/request 2/p' | sed 1d | sed '$d')
[ "$(printf '%s\n' "$traced" | wc -l)" -eq 5 ] || fail "expected 5 lines for request 1"
printf '%s\n' "$traced" | grep -qv "^\[info\] $root@[0-9a-f]\{16\} " && fail "a line of request 1 lacks $root@<id>"
# Subsegment lines name another entity than the segment's, and the W3C header carries its id.
segment_id=$(printf '%s\n' "$traced" | sed -n '1s/.*@\([0-9a-f]\{16\}\) .*/\1/p')
sub_id=$(printf '%s\n' "$traced" | sed -n '2s/.*@\([0-9a-f]\{16\}\) .*/\1/p')
[ "$segment_id" != "$sub_id" ] || fail "segment and subsegment lines show the same id"
printf '%s\n' "$traced" | grep -q "downstream X-Amzn-Trace-Id: Root=$root;Parent=$sub_id;Sampled=1$" \
  || fail "downstream X-Amzn-Trace-Id"
printf '%s\n' "$traced" | grep -q "downstream traceparent: 00-$w3c-$sub_id-01$" \
  || fail "downstream traceparent"

# Request 2: unsampled with no-op ids; no line carries an id, and no traceparent goes out.
quiet=$(printf '%s\n' "$output" | sed -n '/request 2/,$p' | sed 1d)
printf '%s\n' "$quiet" | grep -q '@' && fail "an unsampled line carries ids"
printf '%s\n' "$quiet" | grep -q "downstream traceparent: (none)" || fail "traceparent of request 2"
echo "log_correlation: OK"
