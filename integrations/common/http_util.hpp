// Internal to the integrations: small string helpers shared by the Beast and libcurl integrations
// (URL clean-up for http.request.url, host names for subsegment names, the Host-pattern match).
// Header-only so that neither integration target depends on the other.
//
// Thread safety: pure functions.
#pragma once

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/ascii.hpp"
#include "base/host.hpp"

namespace xray::integrations {

using detail::host_without_port;
using detail::iequals;
using detail::trim;

// The parts of an absolute URL that tracing records.
struct UrlParts {
  std::string_view scheme;     // "http"; empty when the URL has none
  std::string_view authority;  // host[:port], userinfo removed
  std::string_view path;       // "/a/b" (may be empty)
  std::string_view query;      // "?x=1" including the '?', or empty
};

inline UrlParts split_url(std::string_view url) noexcept {
  UrlParts parts;
  std::size_t fragment = url.find('#');
  if (fragment != std::string_view::npos) url = url.substr(0, fragment);
  std::size_t scheme_end = url.find("://");
  std::string_view rest = url;
  if (scheme_end != std::string_view::npos) {
    parts.scheme = url.substr(0, scheme_end);
    rest = url.substr(scheme_end + 3);
    std::size_t authority_end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, authority_end);
    // userinfo ends at the last '@' of the authority (a password may contain '@' unescaped).
    std::size_t at = authority.rfind('@');
    if (at != std::string_view::npos) authority = authority.substr(at + 1);
    parts.authority = authority;
    rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  }
  std::size_t question = rest.find('?');
  parts.path = rest.substr(0, question);
  if (question != std::string_view::npos) parts.query = rest.substr(question);
  return parts;
}

// scheme://authority/path[?query]: never userinfo or fragment; the query only when asked.
inline std::string recorded_url(std::string_view scheme, std::string_view authority,
                                std::string_view path, std::string_view query, bool keep_query) {
  std::string url;
  url.reserve(scheme.size() + authority.size() + path.size() + query.size() + 4);
  url.append(scheme).append("://").append(authority);
  if (path.empty() || path.front() != '/') url.push_back('/');
  url.append(path);
  if (keep_query) url.append(query);
  return url;
}

// A Content-Length value: decimal digits only (at most 19, so it fits), spaces trimmed.
inline std::optional<std::uint64_t> parse_content_length(std::string_view text) noexcept {
  text = trim(text);
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

}  // namespace xray::integrations
