// Internal: rules for names, annotation keys and SQL fields.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace xray::detail {

inline constexpr std::size_t kMaxNameLength = 200;  // code points

// Removes control characters (C0, DEL and C1, TAB included) and printable ASCII outside letters,
// digits, space and `_ . : / % & # = + \ - @`; keeps every other non-ASCII code point; replaces each
// ill-formed UTF-8 sequence by one U+FFFD; truncates to 200 code points.
std::string sanitize_name(std::string_view name);

// [A-Za-z0-9_]+
bool is_valid_annotation_key(std::string_view key) noexcept;

// Removes passwords from a connection string (`Password=...;`, `pwd=...`) and from a URL's userinfo
// (`scheme://user:secret@host` -> `scheme://user@host`).
std::string strip_password(std::string_view text);

}  // namespace xray::detail
