#!/usr/bin/env bash
# Checks what a shared library of the SDK exports (ctest package.exported_symbols.<library>).
#
# Usage: check_exports.sh <nm> <readelf> <core|integration> <shared library> <objects, ;-separated>
#
# Fails when the library exports a symbol of xray::detail (internals stay inside the library) or,
# for the core, any symbol that mentions Boost (its public API has none: Boost is private); or when
# one of its objects defines a non-inline function or variable in a public namespace (xray,
# xray::plugins, ...) that the library does not export: a public declaration without XRAY_EXPORT
# (include/xray/export.hpp), which a program linking the shared library could not call.
set -euo pipefail
nm=$1 readelf=$2 kind=$3 lib=$4 objects=$5

# Demangled names of the exported (dynamic, defined) symbols, without "vtable for " and the like.
exported=$("$nm" -D --defined-only -C "$lib" | cut -d' ' -f3-)
names=$(sed -E 's/^((typeinfo name|typeinfo|vtable|VTT|construction vtable|guard variable|TLS init function|TLS wrapper function|(non-virtual |virtual |covariant return )?thunk) (for|to) )+//' <<<"$exported")

failed=0
report() {  # report <what> <symbols>
  [ -z "$2" ] && return 0
  echo "FAILED: $(basename "$lib") $1 ($(wc -l <<<"$2")):"
  head -n 20 <<<"$2" | sed 's/^/  /'
  failed=1
}

report "exports xray::detail symbols" "$(grep -E '^xray::([A-Za-z0-9_]+::)*detail::' <<<"$names" || true)"
# An integration's API is made of Boost (Beast) types, so Boost's own vague-linkage symbols (error
# categories, exception typeinfo, Asio's per-thread state) must stay visible for them to be unique in
# the process, as Boost asks; only the core keeps Boost entirely inside.
if [ "$kind" = core ]; then
  report "exports symbols that mention Boost" "$(grep -F 'boost::' <<<"$exported" || true)"
fi

# Global (non-weak, so not inline), defined, hidden symbols in a public namespace of the objects.
IFS=';' read -r -a object_files <<<"$objects"
if [ ${#object_files[@]} -eq 0 ]; then
  echo "usage: $0 <nm> <readelf> <core|integration> <shared library> <objects, ;-separated>" >&2
  exit 2
fi
hidden=$("$readelf" -sW -C "${object_files[@]}" |
  awk '$5 == "GLOBAL" && $6 == "HIDDEN" && $7 != "UND" && ($4 == "FUNC" || $4 == "OBJECT") {
         name = $8; for (i = 9; i <= NF; ++i) name = name " " $i; print name }' |
  grep -E '^xray::' | grep -vE '^xray::([A-Za-z0-9_]+::)*(detail::|\(anonymous namespace\))' |
  sort -u || true)
report "defines public-namespace symbols without XRAY_EXPORT" "$hidden"

public=$(grep -cE '^xray::' <<<"$names" || true)
if [ "$public" -eq 0 ]; then
  echo "FAILED: $(basename "$lib") exports nothing of namespace xray"
  failed=1
fi
echo "$(basename "$lib"): $(wc -l <<<"$exported") exported symbols, $public of namespace xray"
exit $failed
