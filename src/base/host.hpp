// Header-only: the host of an HTTP authority, shared by the AWS-call mapping (endpoint names) and
// the integrations (subsegment names, Host patterns).
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

#include "base/ascii.hpp"

namespace xray::detail {

// "host", "host:port", "[v6]:port" or "[v6]" → the host without port or brackets.
inline std::string_view host_without_port(std::string_view authority) noexcept {
  authority = trim(authority);
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    return close == std::string_view::npos ? authority.substr(1) : authority.substr(1, close - 1);
  }
  std::size_t colon = authority.find(':');
  // More than one colon: a bare IPv6 address, which has no port.
  if (colon != std::string_view::npos && authority.find(':', colon + 1) == std::string_view::npos) {
    return authority.substr(0, colon);
  }
  return authority;
}

}  // namespace xray::detail
