// xray/daemon_address.hpp: the daemon address grammar (`AWS_XRAY_DAEMON_ADDRESS`, spec §1.3),
// parsed but not resolved. The recorder's configuration, the sampling poller, the emitter and tools
// such as the local daemon stand-in all read addresses with this parser.
//
//   std::string error;
//   auto address = xray::parse_daemon_address("tcp:127.0.0.1:2000 udp:[::1]:2000", &error);
//   if (!address) log_warning(error);  // the caller falls back to the programmatic value/default
//
// Parsing is purely syntactic: a well-formed host name that does not resolve (`XYZ:2000`) is valid
// here; resolving it, and retrying, is the emitter's job. Blank text is invalid here: callers treat
// blank as "unset" before calling. Host names follow RFC 1123; a single trailing dot (a fully
// qualified name, `localhost.`) is accepted and kept.
//
// Thread safety: free functions on values; safe to call concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "xray/export.hpp"

namespace xray {

// One host and port. An IPv6 literal is stored without its brackets (`::1`).
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;

  bool operator==(const Endpoint& other) const noexcept {
    return host == other.host && port == other.port;
  }
  bool operator!=(const Endpoint& other) const noexcept { return !(*this == other); }
};

// Where segments go (UDP) and where sampling requests go (TCP, the daemon's proxy).
struct DaemonAddress {
  Endpoint udp;
  Endpoint tcp;

  bool operator==(const DaemonAddress& other) const noexcept {
    return udp == other.udp && tcp == other.tcp;
  }
  bool operator!=(const DaemonAddress& other) const noexcept { return !(*this == other); }
};

inline constexpr std::string_view kDefaultDaemonAddress = "127.0.0.1:2000";

// Parses `host:port` (both UDP and TCP) or `udp:host:port tcp:host:port` in either order.
// On failure returns std::nullopt and, if `error` is not null, stores a one-line reason in it.
XRAY_EXPORT std::optional<DaemonAddress> parse_daemon_address(std::string_view text,
                                                              std::string* error) noexcept;

// 127.0.0.1:2000 for both UDP and TCP.
XRAY_EXPORT DaemonAddress default_daemon_address();

// `host:port`, or `[host]:port` for an IPv6 literal.
XRAY_EXPORT std::string to_string(const Endpoint& endpoint);

}  // namespace xray
