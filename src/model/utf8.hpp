// Internal: UTF-8 well-formedness, shared by the JSON writer and name cleaning so that both agree
// on what one code point is.
// Thread safety: pure functions.
#pragma once

#include <string_view>

namespace xray::detail {

inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence at the start of `s` (whose first byte is >= 0x80), or
// the negated length of its maximal ill-formed prefix (Unicode §3.9, "maximal subpart"), which a
// reader replaces by a single U+FFFD. Bounds per Unicode Table 3-7 exclude overlong forms
// (`C0 AF`), surrogates (`ED A0 80`) and code points above U+10FFFF.
int utf8_sequence(std::string_view s) noexcept;

}  // namespace xray::detail
