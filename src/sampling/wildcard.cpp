#include "xray/wildcard.hpp"

#include <cstddef>

#include "model/utf8.hpp"
#include "sampling/wildcard_pattern.hpp"

namespace xray {
namespace detail {
namespace {

// std::tolower depends on the C locale; rule patterns are ASCII by contract, so fold ASCII only.
constexpr char fold(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

// Bytes of the character at text[i] (spec §7.3: a character is a code point of the UTF-8 text;
// an invalid byte counts as one character).
std::size_t wildcard_character_length(std::string_view text, std::size_t i) noexcept {
  if (static_cast<unsigned char>(text[i]) < 0x80) return 1;
  const int length = utf8_sequence(text.substr(i));
  return length > 0 ? static_cast<std::size_t>(length) : 1;
}

bool wildcard_match_general(std::string_view pattern, std::string_view text,
                            bool case_insensitive) noexcept {
  constexpr std::size_t kNoStar = static_cast<std::size_t>(-1);
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = kNoStar;  // position of the last `*` seen in the pattern
  std::size_t mark = 0;        // text position that `*` was last tried up to
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      // A trailing `*` (after collapsing runs) matches the rest: no need to walk the text.
      while (p < pattern.size() && pattern[p] == '*') ++p;
      if (p == pattern.size()) return true;
      star = p - 1;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == '?') {
      ++p;
      t += wildcard_character_length(text, t);  // one character, not one byte
    } else if (p < pattern.size() &&
               (case_insensitive ? fold(pattern[p]) == fold(text[t]) : pattern[p] == text[t])) {
      // Byte-wise: a multi-byte character in the pattern matches the same bytes in the text.
      ++p;
      ++t;
    } else if (star != kNoStar) {
      // Let the last `*` swallow one more character and retry the rest of the pattern after it.
      p = star + 1;
      mark += wildcard_character_length(text, mark);
      t = mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace detail

bool wildcard_match(std::string_view pattern, std::string_view text,
                    bool case_insensitive) noexcept {
  // Fast paths for the patterns rules use most: "*" and a literal without wildcards. Rules compile
  // their patterns once instead (detail::WildcardPattern); this is the reference they agree with.
  if (pattern.size() == 1 && pattern[0] == '*') return true;
  bool literal = true;  // a plain loop: find_first_of costs a memchr per character here
  for (char c : pattern) {
    if (c == '*' || c == '?') {
      literal = false;
      break;
    }
  }
  if (literal) {
    if (pattern.size() != text.size()) return false;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      char p = pattern[i];
      char t = text[i];
      if (case_insensitive ? detail::fold(p) != detail::fold(t) : p != t) return false;
    }
    return true;
  }
  return detail::wildcard_match_general(pattern, text, case_insensitive);
}

}  // namespace xray
