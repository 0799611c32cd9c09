#!/usr/bin/env bash
# ctest example_dynamodb_demo: runs dynamodb_demo against dynalite. Exit 77 (skipped) when
# dynalite is not installed, unless XRAY_REQUIRE_DYNALITE=1. Usage: smoke_test.sh REPO_ROOT DEMO
set -euo pipefail
root=$1 demo=$2
if ! command -v node >/dev/null || [ ! -f "$root/tests/dynalite/node_modules/dynalite/package.json" ]; then
  echo "dynalite is not installed: npm ci --prefix $root/tests/dynalite"
  [ "${XRAY_REQUIRE_DYNALITE:-}" = 1 ] && exit 1
  exit 77
fi
source "$root/scripts/lib/dynalite.sh"
log=$(mktemp)
trap 'stop_dynalite; rm -f "$log"' EXIT
start_dynalite "$root" "$log"
AWS_ACCESS_KEY_ID=AKIDXRAYTEST AWS_SECRET_ACCESS_KEY=xray-test-secret \
  "$demo" --endpoint "$DYNALITE_ENDPOINT" --table users
grep -q "sigv4=ok" "$log" || { echo "dynalite saw no valid signature:"; cat "$log"; exit 1; }
grep -q "sigv4=bad" "$log" && { echo "a request's signature did not verify:"; cat "$log"; exit 1; }
echo "dynalite saw:"; cat "$log"
