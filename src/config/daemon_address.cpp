#include "xray/daemon_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstddef>
#include <vector>

#include "base/ascii.hpp"

namespace xray {
namespace {

constexpr std::string_view kUdpPrefix = "udp:";
constexpr std::string_view kTcpPrefix = "tcp:";
constexpr std::size_t kMaxHostNameLength = 253;
constexpr std::size_t kMaxLabelLength = 63;
constexpr std::size_t kMaxPortDigits = 5;

using detail::starts_with;
bool is_space(char c) noexcept { return detail::is_ascii_space(c); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::vector<std::string_view> split_on_space(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) parts.push_back(text.substr(start, i - start));
  }
  return parts;
}

// Error messages quote user input; cap it so a huge variable cannot produce a huge log line.
std::string quoted(std::string_view s) {
  constexpr std::size_t kMaxQuoted = 80;
  std::string out = "'";
  out.append(s.substr(0, kMaxQuoted));
  if (s.size() > kMaxQuoted) out += "...";
  out += '\'';
  return out;
}

bool parse_port(std::string_view text, std::uint16_t& port) noexcept {
  if (text.empty() || text.size() > kMaxPortDigits) return false;
  unsigned value = 0;
  for (const char c : text) {
    if (!is_digit(c)) return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

// RFC 1123 host name: dot-separated labels of letters, digits and hyphens, 1–63 characters, not
// starting or ending with a hyphen; at most 253 characters, not counting one optional trailing dot.
bool is_valid_host_name(std::string_view host) noexcept {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > kMaxHostNameLength) return false;
  while (true) {
    const std::size_t dot = host.find('.');
    const std::string_view label = host.substr(0, dot);
    if (label.empty() || label.size() > kMaxLabelLength) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (const char c : label) {
      if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    host.remove_prefix(dot + 1);
  }
}

bool only_digits_and_dots(std::string_view host) noexcept {
  for (const char c : host) {
    if (!is_digit(c) && c != '.') return false;
  }
  return true;
}

// inet_pton wants a NUL-terminated string; the copy is small and only made at configuration time.
bool is_address(int family, std::string_view text) {
  in6_addr buffer{};  // large enough for either family
  const std::string copy(text);
  return inet_pton(family, copy.c_str(), &buffer) == 1;
}

std::optional<Endpoint> parse_endpoint(std::string_view text, std::string& error) {
  std::string_view host;
  std::string_view port_text;
  bool ipv6 = false;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated '[' in " + quoted(text);
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      error = "expected ':port' after ']' in " + quoted(text);
      return std::nullopt;
    }
    port_text = rest.substr(1);
    ipv6 = true;
  } else {
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
      error = "missing ':port' in " + quoted(text);
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (port_text.find(':') != std::string_view::npos) {
      // Either an unbracketed IPv6 literal or a stray prefix; both are ambiguous.
      error = "too many ':' in " + quoted(text) + " (IPv6 literals must be written [addr]:port)";
      return std::nullopt;
    }
  }

  if (host.empty()) {
    error = "empty host in " + quoted(text);
    return std::nullopt;
  }
  if (ipv6) {
    if (!is_address(AF_INET6, host)) {
      error = "invalid IPv6 address " + quoted(host);
      return std::nullopt;
    }
  } else if (only_digits_and_dots(host)) {
    // Without this a typo such as `1.2.1` would pass as a host name and fail only at resolution.
    if (!is_address(AF_INET, host)) {
      error = "invalid IPv4 address " + quoted(host);
      return std::nullopt;
    }
  } else if (!is_valid_host_name(host)) {
    error = "invalid host name " + quoted(host);
    return std::nullopt;
  }

  Endpoint endpoint;
  if (!parse_port(port_text, endpoint.port)) {
    error = "invalid port " + quoted(port_text) + " (expected 1-65535)";
    return std::nullopt;
  }
  endpoint.host.assign(host);
  return endpoint;
}

std::optional<DaemonAddress> parse(std::string_view text, std::string& error) {
  const std::vector<std::string_view> parts = split_on_space(text);
  if (parts.empty()) {
    error = "daemon address is blank";
    return std::nullopt;
  }
  if (parts.size() > 2) {
    error = "daemon address " + quoted(text) +
            " has more than two parts (expected host:port or udp:host:port tcp:host:port)";
    return std::nullopt;
  }

  if (parts.size() == 1) {
    // `udp:2000` is a host named "udp"; only a prefix followed by a full endpoint is a half pair.
    const std::string_view only = parts[0];
    std::optional<Endpoint> endpoint = parse_endpoint(only, error);
    if (!endpoint) {
      if (starts_with(only, kUdpPrefix) || starts_with(only, kTcpPrefix)) {
        error = "daemon address " + quoted(text) +
                " gives only one of udp:/tcp: (both are required, or neither)";
      }
      return std::nullopt;
    }
    return DaemonAddress{*endpoint, *endpoint};
  }

  std::optional<Endpoint> udp;
  std::optional<Endpoint> tcp;
  for (const std::string_view part : parts) {
    const bool is_udp = starts_with(part, kUdpPrefix);
    if (!is_udp && !starts_with(part, kTcpPrefix)) {
      error = "part " + quoted(part) + " of a two-part daemon address lacks a udp: or tcp: prefix";
      return std::nullopt;
    }
    std::optional<Endpoint>& slot = is_udp ? udp : tcp;
    if (slot) {
      error = std::string(is_udp ? "udp:" : "tcp:") + " given twice in " + quoted(text);
      return std::nullopt;
    }
    slot = parse_endpoint(part.substr(kUdpPrefix.size()), error);
    if (!slot) return std::nullopt;
  }
  return DaemonAddress{*udp, *tcp};
}

}  // namespace

std::optional<DaemonAddress> parse_daemon_address(std::string_view text,
                                                  std::string* error) noexcept {
  std::string reason;
  std::optional<DaemonAddress> address = parse(text, reason);
  if (!address && error != nullptr) *error = std::move(reason);
  return address;
}

DaemonAddress default_daemon_address() {
  // Parsed from the constant so the two cannot drift apart; the constant is known to be valid.
  return *parse_daemon_address(kDefaultDaemonAddress, nullptr);
}

std::string to_string(const Endpoint& endpoint) {
  std::string out;
  const bool ipv6 = endpoint.host.find(':') != std::string::npos;
  if (ipv6) out += '[';
  out += endpoint.host;
  if (ipv6) out += ']';
  out += ':';
  out += std::to_string(endpoint.port);
  return out;
}

}  // namespace xray
