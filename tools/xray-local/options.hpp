// options.hpp: xray-local's command line.
//
//   xray-local [--address ADDRESS | --port N] [--http HOST:PORT | --http off]
//              [--sampling-rules FILE] [--forward HOST:PORT] [--max-traces N] [--max-mib N]
//              [--quiet | --json] [--once N] [--timeout SECONDS]
//
// ADDRESS follows the daemon address grammar (wire spec §1.3, xray/daemon_address.hpp): `host:port`
// for UDP and the sampling proxy's TCP alike, or `udp:host:port tcp:host:port`; IPv6 as
// `[::1]:2000`. Unlike AWS_XRAY_DAEMON_ADDRESS, port 0 is accepted (any free port, printed at
// start; with a single `host:0` the TCP proxy takes the port UDP got).
//
//   std::string error;
//   auto options = xray::local::parse_options(args, &error);
//   if (!options) { std::cerr << error; return 2; }
//
// Thread safety: free functions on values; safe to call concurrently.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xray/daemon_address.hpp"

namespace xray::local {

struct Options {
  DaemonAddress address = default_daemon_address();
  bool shared_port = true;  // single endpoint form: TCP listens on the port UDP bound
  std::optional<Endpoint> http = Endpoint{"127.0.0.1", 2080};  // nullopt: --http off
  std::optional<Endpoint> forward;
  std::string sampling_rules;  // file; empty: the default rule
  std::size_t max_traces = 100000;
  std::size_t max_mib = 512;
  enum class Print { kTree, kTreeAndJson, kNothing } print = Print::kTree;
  long once = 0;       // exit after this many datagrams; 0: never
  double timeout = 0;  // exit after this many idle seconds; 0: never
  bool help = false;
};

// Parses argv[1..]; nullopt with a one-line reason on error.
std::optional<Options> parse_options(const std::vector<std::string>& args, std::string* error);

// The address grammar of parse_daemon_address with port 0 also accepted.
std::optional<DaemonAddress> parse_listen_address(std::string_view text, std::string* error);

std::string_view usage() noexcept;

}  // namespace xray::local
