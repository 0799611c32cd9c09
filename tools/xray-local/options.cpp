#include "options.hpp"

#include <cstdlib>
#include <sstream>

namespace xray::local {
namespace {

bool parse_count(const std::string& text, double low, double high, double* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == nullptr || *end != '\0' || !(value >= low && value <= high)) return false;
  *out = value;
  return true;
}

}  // namespace

std::string_view usage() noexcept {
  return "usage: xray-local [--address ADDRESS | --port N] [--http HOST:PORT | --http off]\n"
         "                  [--sampling-rules FILE] [--forward HOST:PORT] [--max-traces N]\n"
         "                  [--max-mib N] [--quiet | --json] [--once N] [--timeout SECONDS]\n"
         "  --address   where to receive segments (UDP) and serve sampling (TCP); default\n"
         "              127.0.0.1:2000; 'udp:H:P tcp:H:P' for two; IPv6 as [::1]:2000; port 0: any\n"
         "  --port      the same as --address 127.0.0.1:N\n"
         "  --http      the web console and JSON API; default 127.0.0.1:2080; off: none\n"
         "  --sampling-rules  a JSON array of SamplingRule objects, or the output of\n"
         "              'aws xray get-sampling-rules'; default: 1 request a second, then 5%\n"
         "  --forward   also send every datagram, unchanged, to a real daemon at HOST:PORT\n"
         "  --max-traces, --max-mib  memory bound; the oldest traces are evicted (default\n"
         "              100000 traces, 512 MiB)\n"
         "  --quiet     do not print documents; --json: print each raw document under its tree\n"
         "  --once N    exit after N datagrams; --timeout S: exit after S seconds without one\n";
}

std::optional<DaemonAddress> parse_listen_address(std::string_view text, std::string* error) {
  // Port 0 is not in the daemon grammar: parse with port 1 in its place, then put 0 back.
  std::string rewritten;
  std::vector<bool> zero;
  std::istringstream words{std::string(text)};
  std::string word;
  while (words >> word) {
    const bool is_zero = word.size() > 2 && word.compare(word.size() - 2, 2, ":0") == 0;
    if (is_zero) word.back() = '1';
    zero.push_back(is_zero);
    rewritten += (rewritten.empty() ? "" : " ") + word;
  }
  auto address = parse_daemon_address(rewritten, error);
  if (!address) return std::nullopt;
  if (zero.size() == 1) {
    if (zero[0]) address->udp.port = address->tcp.port = 0;
  } else if (zero.size() == 2) {
    // Which word was which: the first word's prefix says.
    std::istringstream again(rewritten);
    std::string first;
    again >> first;
    const bool udp_first = first.rfind("udp:", 0) == 0;
    if (zero[0]) (udp_first ? address->udp : address->tcp).port = 0;
    if (zero[1]) (udp_first ? address->tcp : address->udp).port = 0;
  }
  return address;
}

std::optional<Options> parse_options(const std::vector<std::string>& args, std::string* error) {
  Options options;
  auto fail = [error](const std::string& reason) -> std::optional<Options> {
    if (error != nullptr) *error = reason;
    return std::nullopt;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool has_value = i + 1 < args.size();
    auto single_endpoint = [&](const std::string& text, bool allow_zero) -> std::optional<Endpoint> {
      std::string reason;
      auto parsed = allow_zero ? parse_listen_address(text, &reason) : parse_daemon_address(text, &reason);
      if (!parsed || text.find(' ') != std::string::npos || parsed->udp != parsed->tcp) {
        if (error != nullptr) {
          *error = arg + ": '" + text + "' is not host:port" + (reason.empty() ? "" : " (" + reason + ")");
        }
        return std::nullopt;
      }
      return parsed->udp;
    };
    if (arg == "--help" || arg == "-h") {
      options.help = true;
      return options;
    }
    if (arg == "--quiet") {
      options.print = Options::Print::kNothing;
      continue;
    }
    if (arg == "--json") {
      options.print = Options::Print::kTreeAndJson;
      continue;
    }
    if (!has_value) return fail(arg.rfind("--", 0) == 0 ? arg + " needs a value" : "unexpected argument " + arg);
    const std::string value = args[++i];
    double number = 0;
    if (arg == "--address") {
      std::string reason;
      auto address = parse_listen_address(value, &reason);
      if (!address) return fail("--address '" + value + "': " + reason);
      options.address = *address;
      options.shared_port = value.find(' ') == std::string::npos &&
                            value.find_first_not_of(" \t") != std::string::npos &&
                            value.rfind("udp:", 0) != 0 && value.rfind("tcp:", 0) != 0;
    } else if (arg == "--port") {
      if (!parse_count(value, 0, 65535, &number)) return fail("--port wants 0-65535, not " + value);
      options.address.udp = options.address.tcp = Endpoint{"127.0.0.1", static_cast<std::uint16_t>(number)};
      options.shared_port = true;
    } else if (arg == "--http") {
      if (value == "off") {
        options.http.reset();
      } else {
        auto endpoint = single_endpoint(value, true);
        if (!endpoint) return std::nullopt;
        options.http = endpoint;
      }
    } else if (arg == "--forward") {
      auto endpoint = single_endpoint(value, false);
      if (!endpoint) return std::nullopt;
      options.forward = endpoint;
    } else if (arg == "--sampling-rules") {
      options.sampling_rules = value;
    } else if (arg == "--max-traces") {
      if (!parse_count(value, 1, 1e9, &number)) return fail("--max-traces wants a positive count, not " + value);
      options.max_traces = static_cast<std::size_t>(number);
    } else if (arg == "--max-mib") {
      if (!parse_count(value, 1, 1e6, &number)) return fail("--max-mib wants a positive count, not " + value);
      options.max_mib = static_cast<std::size_t>(number);
    } else if (arg == "--once") {
      if (!parse_count(value, 0, 1e15, &number)) return fail("--once wants a count, not " + value);
      options.once = static_cast<long>(number);
    } else if (arg == "--timeout") {
      if (!parse_count(value, 0, 1e9, &number)) return fail("--timeout wants seconds, not " + value);
      options.timeout = number;
    } else {
      return fail("unknown option " + arg);
    }
  }
  return options;
}

}  // namespace xray::local
