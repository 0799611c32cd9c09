// xray/wildcard.hpp: the wildcard matcher of sampling rules (spec §7.3), also used by the HTTP
// integrations for host patterns.
//
// `*` matches zero or more characters, `?` exactly one; a character is one code point of the
// UTF-8 text (`?` matches `é`), an invalid byte counting as one. Everything else matches itself,
// with ASCII case folding unless `case_insensitive` is false (non-ASCII letters are compared as
// they are). `""` matches only `""`; `*` matches everything.
// Greedy two-pointer with backtracking to the last `*` (aws-xray-sdk-go
// `pattern/search_pattern.go`): no allocation, no regex, O(pattern * text) worst case and linear on
// patterns such as `a*b`.
//
//   wildcard_match("*.amazon.com", "moop.amazon.com");   // true
//   wildcard_match("Fo?", "FOo", false);                 // false: case-sensitive
//
// "An absent pattern or text never matches" is the caller's business: this takes only present ones.
// Sampling rules do not call this per decision: they compile each pattern once, when they load,
// into a matcher that gives the same answers (src/sampling/wildcard_pattern.hpp).
//
// Thread safety: thread-safe (a pure function).
#pragma once

#include <string_view>

#include "xray/export.hpp"

namespace xray {

XRAY_EXPORT bool wildcard_match(std::string_view pattern, std::string_view text,
                    bool case_insensitive = true) noexcept;

}  // namespace xray
