// Internal: rules for names, annotation keys and SQL fields.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace xray::detail {

inline constexpr std::size_t kMaxNameLength = 200;  // code points

// Removes control characters and printable ASCII outside letters, digits, whitespace and
// `_ . : / % & # = + \ - @`; keeps every non-ASCII code point; truncates to 200 code points.
std::string sanitize_name(std::string_view name);

// [A-Za-z0-9_]+
bool is_valid_annotation_key(std::string_view key) noexcept;

// Removes passwords from a connection string (`Password=...;`, `pwd=...`) and from a URL's userinfo
// (`scheme://user:secret@host` -> `scheme://user@host`).
std::string strip_password(std::string_view text);

}  // namespace xray::detail
