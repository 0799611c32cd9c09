#!/usr/bin/env bash
# Checks every #include "..." in src/, plugins/ and integrations/ against the module table of
# docs/architecture.md: a file may include the public API (xray/...), its own module, and the
# modules listed in its module's "may include" column. Prints each violation as
# `file:line: ...` and exits 1 if there is any. Usage: check_module_boundaries.sh [ROOT]
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
table="$root/docs/architecture.md"
[ -f "$table" ] || { echo "check_module_boundaries: no $table" >&2; exit 2; }

# module<TAB>folder<TAB>include-prefix<TAB>allowed (space-separated), from the table's rows.
modules=$(awk -F'|' '
  /^\| module \| files \| may include \|/ { in_table = 1; next }
  in_table && /^\|---/ { next }
  in_table && !/^\|/ { in_table = 0 }
  in_table {
    name = $2; folder = $3; allowed = $4
    gsub(/[ `]/, "", name); gsub(/[ `]/, "", folder); gsub(/—|,/, " ", allowed)
    prefix = folder; sub(/^(src|integrations)\//, "", prefix)
    printf "%s\t%s\t%s\t%s\n", name, folder, prefix, allowed
  }' "$table")
[ -n "$modules" ] || { echo "check_module_boundaries: no module table in $table" >&2; exit 2; }

violations=0
while IFS=$'\t' read -r name folder _prefix allowed; do
  [ -d "$root/$folder" ] || { echo "$table: module $name: no folder $folder" >&2; violations=1; continue; }
  while IFS= read -r hit; do
    file=${hit%%:*}; rest=${hit#*:}; line=${rest%%:*}
    included=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1/' <<<"${rest#*:}")
    [[ $included == xray/* ]] && continue
    # The module an include belongs to: the one whose folder prefix it starts with.
    target=""
    while IFS=$'\t' read -r other _ other_prefix _; do
      [[ $included == "$other_prefix"* ]] && { target=$other; break; }
    done <<<"$modules"
    [ -z "$target" ] && continue  # a file next to the includer, or a third-party header
    [ "$target" = "$name" ] && continue
    if [[ " $allowed " != *" $target "* ]]; then
      echo "${file#"$root"/}:$line: includes \"$included\" (module $target), which module $name may not include (docs/architecture.md)"
      violations=1
    fi
  done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$root/$folder" --include='*.hpp' --include='*.cpp' || true)
done <<<"$modules"
exit $violations
