#include "model/names.hpp"

#include <vector>

#include "base/ascii.hpp"
#include "model/utf8.hpp"

namespace xray::detail {
namespace {

constexpr bool is_ascii_alnum(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

constexpr bool is_name_ascii(unsigned char c) noexcept {
  if (is_ascii_alnum(c) || c == ' ') return true;
  switch (c) {
    case '_':
    case '.':
    case ':':
    case '/':
    case '%':
    case '&':
    case '#':
    case '=':
    case '+':
    case '\\':
    case '-':
    case '@':
      return true;
    default:
      return false;
  }
}

bool is_password_key(std::string_view key) noexcept {
  key = trim(key);
  auto equals = [key](std::string_view word) {
    if (key.size() != word.size()) return false;
    for (std::size_t i = 0; i < key.size(); ++i) {
      if (ascii_lower(key[i]) != word[i]) return false;
    }
    return true;
  };
  return equals("password") || equals("pwd");
}

// True if `segment` is `key=value` with a password key.
bool is_password_pair(std::string_view segment) noexcept {
  const std::size_t equals = segment.find('=');
  return equals != std::string_view::npos && is_password_key(segment.substr(0, equals));
}

// End of the `;`-separated pair starting at `pos` of a connection string. Values may be quoted
// ("...", '...', or ODBC {...}, a doubled closing character standing for itself) and then contain
// semicolons, which must not end the pair: the rest of a password would leak.
std::size_t connection_pair_end(std::string_view s, std::size_t pos) noexcept {
  const std::size_t equals = s.find_first_of("=;", pos);
  if (equals == std::string_view::npos || s[equals] == ';') return equals;
  std::size_t i = equals + 1;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  if (i < s.size() && (s[i] == '"' || s[i] == '\'' || s[i] == '{')) {
    const char close = s[i] == '{' ? '}' : s[i];
    ++i;
    while (i < s.size()) {
      if (s[i] == close) {
        if (i + 1 < s.size() && s[i + 1] == close) {
          i += 2;
          continue;
        }
        ++i;
        break;
      }
      ++i;
    }
  }
  return s.find(';', i);
}

// Removes password pairs from `region`, appending the rest to `out`. In a URL, pairs are separated
// by `;` (matrix and JDBC parameters) and `&` (query); the first `?` opens the query. A removed
// pair takes its preceding separator along, or, when it is first, its following one.
void append_without_passwords(std::string& out, std::string_view region, bool url) {
  struct Segment {
    char separator;  // '\0' for the first segment
    std::string_view text;
  };
  std::vector<Segment> segments;
  bool in_query = false;
  char separator = '\0';
  std::size_t pos = 0;
  while (true) {
    std::size_t end;
    if (url) {
      end = region.find_first_of(in_query ? ";&" : ";&?", pos);
    } else {
      end = connection_pair_end(region, pos);
    }
    if (end == std::string_view::npos) end = region.size();
    segments.push_back({separator, region.substr(pos, end - pos)});
    if (end == region.size()) break;
    separator = region[end];
    if (separator == '?') in_query = true;
    pos = end + 1;
  }

  // When a first pair (or the first query pair) is removed, its separator moves to the next pair.
  bool carrying = false;
  char carried = '\0';
  for (const Segment& segment : segments) {
    if (is_password_pair(segment.text)) {
      if ((segment.separator == '\0' || segment.separator == '?') && !carrying) {
        carrying = true;
        carried = segment.separator;
      }
      continue;
    }
    char sep = segment.separator;
    if (carrying && (sep == ';' || sep == '&')) sep = carried;
    carrying = false;
    if (sep != '\0') out += sep;
    out += segment.text;
  }
}


// libpq's keyword/value form: `host=db user=app password='se cret'`, pairs separated by whitespace,
// optional spaces around '=', single-quoted values with backslash escapes. Returns false (and
// appends nothing) when `text` is not in that form.
bool append_keyword_value_without_passwords(std::string& out, std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::string result;
  std::size_t i = 0;
  auto skip_spaces = [&] {
    while (i < text.size() && is_space(text[i])) ++i;
  };
  skip_spaces();
  while (i < text.size()) {
    std::size_t key_begin = i;
    while (i < text.size() && text[i] != '=' && !is_space(text[i])) ++i;
    std::string_view key = text.substr(key_begin, i - key_begin);
    skip_spaces();
    if (key.empty() || i >= text.size() || text[i] != '=') return false;
    ++i;
    skip_spaces();
    std::size_t value_begin = i;
    if (i < text.size() && text[i] == '\'') {
      for (++i; i < text.size() && text[i] != '\''; ++i) {
        if (text[i] == '\\') ++i;
      }
      if (i >= text.size()) return false;
      ++i;
    } else {
      while (i < text.size() && !is_space(text[i])) ++i;
    }
    std::string pair = std::string(key) + "=" + std::string(text.substr(value_begin, i - value_begin));
    if (!is_password_pair(pair)) {
      if (!result.empty()) result += ' ';
      result += pair;
    }
    skip_spaces();
  }
  out += result;
  return true;
}

}  // namespace

namespace {

// is_name_ascii as a table: the common name (short, plain ASCII) is checked a byte per load.
struct NameAsciiTable {
  bool allowed[128] = {};
  constexpr NameAsciiTable() {
    for (unsigned char c = 0; c < 128; ++c) allowed[c] = is_name_ascii(c);
  }
};
constexpr NameAsciiTable kNameAscii;

bool is_clean_ascii_name(std::string_view name) noexcept {
  if (name.size() > kMaxNameLength) return false;
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80 || !kNameAscii.allowed[byte]) return false;
  }
  return true;
}

}  // namespace

std::string sanitize_name(std::string_view name) {
  if (is_clean_ascii_name(name)) return std::string(name);  // nothing to remove or count
  std::string out;
  out.reserve(name.size());
  std::size_t code_points = 0;
  std::size_t i = 0;
  while (i < name.size() && code_points < kMaxNameLength) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x80) {
      if (is_name_ascii(c)) {
        out += static_cast<char>(c);
        ++code_points;
      }
      ++i;
      continue;
    }
    const int length = utf8_sequence(name.substr(i));
    if (length < 0) {
      // Ill-formed (overlong, surrogate, truncated, stray byte): one U+FFFD, as the JSON writer
      // would write it, so the 200 code points counted here are the 200 the document carries.
      out += kReplacementCharacter;
      ++code_points;
      i += static_cast<std::size_t>(-length);
      continue;
    }
    // C1 controls (U+0080..U+009F, encoded C2 80..C2 9F) are control characters too.
    const bool c1_control = length == 2 && c == 0xC2 && static_cast<unsigned char>(name[i + 1]) < 0xA0;
    if (!c1_control) {
      out.append(name.data() + i, static_cast<std::size_t>(length));
      ++code_points;
    }
    i += static_cast<std::size_t>(length);
  }
  return out;
}

bool is_valid_annotation_key(std::string_view key) noexcept {
  if (key.empty()) return false;
  for (char c : key) {
    if (!is_ascii_alnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::string strip_password(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    if (text.find(';') == std::string_view::npos &&
        append_keyword_value_without_passwords(out, text)) {
      return out;
    }
    append_without_passwords(out, text, false);
    return out;
  }
  const std::size_t authority_begin = scheme_end + 3;
  std::size_t authority_end = text.find_first_of("/?#;", authority_begin);
  if (authority_end == std::string_view::npos) authority_end = text.size();
  const std::string_view authority = text.substr(authority_begin, authority_end - authority_begin);
  // The last '@' ends the userinfo: an unencoded '@' in a password must not reveal its tail.
  const std::size_t at = authority.rfind('@');
  const std::size_t colon = at == std::string_view::npos ? at : authority.substr(0, at).find(':');
  out.append(text.substr(0, authority_begin));
  if (colon == std::string_view::npos) {
    out.append(authority);
  } else {
    out.append(authority.substr(0, colon));
    out.append(authority.substr(at));
  }
  append_without_passwords(out, text.substr(authority_end), true);
  return out;
}

}  // namespace xray::detail
