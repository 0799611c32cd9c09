#!/usr/bin/env bash
# The boundary check must pass on the tree as it is and fail, naming file and line, when one
# include runs against the module table (here: sampling including the recorder, a cycle).
set -euo pipefail
root=$1
check="$root/scripts/check_module_boundaries.sh"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/docs"
cp "$root/docs/architecture.md" "$scratch/docs/"
cp -r "$root/src" "$root/plugins" "$root/integrations" "$root/tools" "$scratch/"
bash "$check" "$scratch" || { echo "FAIL: the unmodified tree is reported" >&2; exit 1; }
line=$(( $(wc -l < "$scratch/src/sampling/wildcard.cpp") + 1 ))
echo '#include "recorder/recorder_core.hpp"' >> "$scratch/src/sampling/wildcard.cpp"
if output=$(bash "$check" "$scratch"); then
  echo "FAIL: an include of the recorder from sampling was not reported" >&2
  exit 1
fi
expected="src/sampling/wildcard.cpp:$line: includes \"recorder/recorder_core.hpp\" (module recorder)"
[[ $output == *"$expected"* ]] || { echo "FAIL: expected '$expected', got: $output" >&2; exit 1; }
echo "ok: $output"
