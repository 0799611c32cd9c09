// local_daemon: a stand-in for the AWS X-Ray daemon, for running the examples without AWS.
//
// It listens on UDP where the daemon would (127.0.0.1:2000 by default), accepts what the daemon
// accepts (a `{"format":"json","version":1}` line, then one JSON document) and, instead of sending
// it to X-Ray, prints each document as a tree on stdout; datagrams the daemon would reject get a
// one-line warning on stderr. It does not use the SDK, so it shows what really reached the wire.
//
//   local_daemon [--address host:port | --port N] [--once N] [--timeout SECONDS] [--json]
//                [--sampling-rules FILE]
//
// With --sampling-rules it also plays the daemon's TCP proxy for centralized sampling on the same
// address: POST /GetSamplingRules answers with the SamplingRule objects of FILE (a JSON array),
// POST /SamplingTargets grants each reporting rule its ReservoirSize as quota for 10 s; both are
// logged on stdout.
//
// Single-threaded; SIGINT and SIGTERM end it cleanly (exit status 0).
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "2000";
  long once = 0;       // exit after this many datagrams; 0 = never
  double timeout = 0;  // exit after this many idle seconds; 0 = never
  bool print_json = false;
  std::string sampling_rules;  // file of SamplingRule objects; empty = no TCP proxy
};

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "local_daemon: " << problem << "\n";
  std::cerr << "usage: local_daemon [--address host:port | --port N] [--once N] "
               "[--timeout SECONDS] [--json] [--sampling-rules FILE]\n";
  std::exit(problem.empty() ? 0 : 2);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--address") {
        std::string address = value();
        // "[::1]:2000" for IPv6 literals, as in AWS_XRAY_DAEMON_ADDRESS.
        auto colon = address.rfind(':');
        if (colon == std::string::npos || colon == 0) usage("--address wants host:port");
        options.host = address.substr(0, colon);
        options.port = address.substr(colon + 1);
        if (options.host.size() > 2 && options.host.front() == '[' && options.host.back() == ']') {
          options.host = options.host.substr(1, options.host.size() - 2);
        }
      } else if (arg == "--port") {
        options.port = std::to_string(std::stoul(value()));
      } else if (arg == "--once") {
        options.once = std::stol(value());
      } else if (arg == "--timeout") {
        options.timeout = std::stod(value());
      } else if (arg == "--sampling-rules") {
        options.sampling_rules = value();
      } else if (arg == "--json") {
        options.print_json = true;
      } else if (arg == "--help" || arg == "-h") {
        usage("");
      } else {
        usage("unknown option " + arg);
      }
    } catch (const std::logic_error&) {  // std::stol and friends on a non-number
      usage("bad value for " + arg);
    }
  }
  return options;
}

// Annotation values and the like: strings without quotes, anything else as JSON.
std::string text(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// Everything printed after an entity's name, two spaces between items.
std::string details(const json& entity, bool top_level) {
  std::string out;
  auto add = [&out](const std::string& item) { out += "  " + item; };

  if (entity.value("in_progress", false)) {
    add("(in progress)");
  } else if (entity.contains("end_time") && entity.contains("start_time") &&
             entity["end_time"].is_number() && entity["start_time"].is_number()) {
    double ms = (entity["end_time"].get<double>() - entity["start_time"].get<double>()) * 1000;
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f ms", ms);
    add(buffer);
  }
  if (entity.contains("namespace")) add("ns=" + text(entity["namespace"]));
  if (entity.contains("user")) add("user=" + text(entity["user"]));
  if (const json http = entity.value("http", json::object()); http.is_object()) {
    const json request = http.value("request", json::object());
    const json response = http.value("response", json::object());
    std::string line;
    if (request.contains("method")) line += text(request["method"]) + " ";
    if (request.contains("url")) line += text(request["url"]) + " ";
    if (response.contains("status")) line += "-> " + text(response["status"]);
    if (!line.empty()) add(line.back() == ' ' ? line.substr(0, line.size() - 1) : line);
  }
  if (const json annotations = entity.value("annotations", json::object());
      annotations.is_object() && !annotations.empty()) {
    std::string list;
    for (const auto& [key, value] : annotations.items()) {
      list += (list.empty() ? "" : ",") + key + "=" + text(value);
    }
    add("{" + list + "}");
  }
  if (entity.value("error", false)) add("ERROR");
  if (entity.value("throttle", false)) add("THROTTLE");
  if (entity.value("fault", false)) add("FAULT");
  if (entity.contains("cause")) {
    const json& cause = entity["cause"];
    if (cause.is_string()) {
      add("cause=" + cause.get<std::string>());  // an exception recorded on another entity
    } else if (cause.is_object() && cause.contains("exceptions") &&
               cause["exceptions"].is_array() && !cause["exceptions"].empty()) {
      const json& first = cause["exceptions"][0];
      add(text(first.value("type", json("exception"))) + ": " +
          text(first.value("message", json(""))));
    }
  }
  if (top_level && entity.contains("aws") && entity["aws"].is_object() &&
      entity["aws"].contains("xray") && entity["aws"]["xray"].is_object() &&
      entity["aws"]["xray"].contains("sampling_rule_name")) {
    add("sampled by rule " + text(entity["aws"]["xray"]["sampling_rule_name"]));
  }
  if (top_level && entity.value("type", "") == "subsegment") {
    add("(independent subsegment of " + text(entity.value("parent_id", json("?"))) + ")");
  }
  return out;
}

void print_children(std::ostream& out, const json& entity, const std::string& prefix) {
  if (!entity.contains("subsegments") || !entity["subsegments"].is_array()) return;
  const json& children = entity["subsegments"];
  for (std::size_t i = 0; i < children.size(); ++i) {
    const bool last = i + 1 == children.size();
    const json& child = children[i];
    out << prefix << (last ? "└─ " : "├─ ") << text(child.value("name", json("?")))
        << details(child, false) << "\n";
    print_children(out, child, prefix + (last ? "   " : "│  "));
  }
}

void print_document(std::ostream& out, const json& document) {
  const bool independent = document.value("type", "") == "subsegment";
  out << (independent ? "subsegment " : "segment ") << text(document.value("name", json("?")))
      << "  [" << text(document.value("trace_id", json("no trace_id"))) << "]"
      << details(document, true) << "\n";
  print_children(out, document, "");
}

std::string peer_name(const sockaddr_storage& peer, socklen_t length) {
  char host[NI_MAXHOST], port[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&peer), length, host, sizeof host, port,
                    sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  return peer.ss_family == AF_INET6 ? "[" + std::string(host) + "]:" + port
                                    : std::string(host) + ":" + port;
}

// The checks the real daemon makes (pkg/util/util.go, pkg/tracesegment): a header line whose
// format is "json" (any case) and version 1, then a body. Returns the problem, or "" if fine.
std::string check(const std::string& datagram, json& document) {
  auto newline = datagram.find('\n');
  if (newline == std::string::npos || newline + 1 == datagram.size()) {
    return "missing header or segment";
  }
  json header = json::parse(datagram.substr(0, newline), nullptr, false);
  if (!header.is_object()) return "invalid header";
  json format = header.value("format", json());
  std::string lowered = format.is_string() ? format.get<std::string>() : "";
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lowered != "json" || header.value("version", json()) != 1) {
    return "invalid header";
  }
  document = json::parse(datagram.substr(newline + 1), nullptr, false);
  if (document.is_discarded() || !document.is_object()) return "body is not a JSON object";
  return "";
}

}  // namespace

// The sampling half of the daemon's TCP proxy: one request per connection, answered at once.
class SamplingProxy {
 public:
  SamplingProxy(int fd, json rules) : fd_(fd), rules_(std::move(rules)) {}
  int fd() const { return fd_; }

  void serve_one() {
    int connection = ::accept(fd_, nullptr, nullptr);
    if (connection < 0) return;
    std::string request;
    char chunk[4096];
    std::size_t body_at = std::string::npos;
    std::size_t length = 0;
    while (body_at == std::string::npos || request.size() < body_at + length) {
      pollfd pfd{connection, POLLIN, 0};
      if (::poll(&pfd, 1, 1000) <= 0) break;
      ssize_t n = ::recv(connection, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      request.append(chunk, static_cast<std::size_t>(n));
      if (body_at == std::string::npos && (body_at = request.find("\r\n\r\n")) != std::string::npos) {
        body_at += 4;
        std::string lower = request.substr(0, body_at);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::size_t header = lower.find("content-length:");
        if (header != std::string::npos) length = std::strtoul(lower.c_str() + header + 15, nullptr, 10);
      }
    }
    std::string path = request.substr(0, request.find("\r\n"));
    json body = body_at == std::string::npos
                    ? json()
                    : json::parse(request.substr(body_at), nullptr, false);
    std::string reply = path.find("/GetSamplingRules") != std::string::npos ? rules()
                        : path.find("/SamplingTargets") != std::string::npos ? targets(body)
                                                                              : std::string();
    std::string response = reply.empty() ? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                                         : "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                           "Content-Length: " + std::to_string(reply.size()) +
                                               "\r\nConnection: close\r\n\r\n" + reply;
    ::send(connection, response.data(), response.size(), MSG_NOSIGNAL);
    ::close(connection);
  }

 private:
  std::string rules() {
    json records = json::array();
    for (const auto& rule : rules_) records.push_back({{"SamplingRule", rule}});
    std::cout << "sampling: GetSamplingRules -> " << records.size() << " rules" << std::endl;
    return json{{"SamplingRuleRecords", records}, {"NextToken", nullptr}}.dump();
  }

  std::string targets(const json& body) {
    double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    json documents = json::array();
    if (body.is_object() && body.contains("SamplingStatisticsDocuments")) {
      for (const auto& stats : body["SamplingStatisticsDocuments"]) {
        std::string name = stats.value("RuleName", "");
        std::cout << "sampling: statistics for rule " << name << ": " << stats.value("RequestCount", 0)
                  << " requests, " << stats.value("SampledCount", 0) << " sampled, "
                  << stats.value("BorrowCount", 0) << " borrowed" << std::endl;
        for (const auto& rule : rules_) {
          if (rule.value("RuleName", "") != name) continue;
          documents.push_back({{"RuleName", name}, {"FixedRate", rule.value("FixedRate", 0.0)},
                               {"ReservoirQuota", rule.value("ReservoirSize", 0)},
                               {"ReservoirQuotaTTL", now + 10}, {"Interval", 10}});
        }
      }
    }
    return json{{"SamplingTargetDocuments", documents}, {"LastRuleModification", 0},
                {"UnprocessedStatistics", json::array()}}
        .dump();
  }

  int fd_;
  json rules_;
};

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* resolved = nullptr;
  if (int rc = ::getaddrinfo(options.host.c_str(), options.port.c_str(), &hints, &resolved);
      rc != 0) {
    std::cerr << "local_daemon: cannot resolve " << options.host << ":" << options.port << ": "
              << ::gai_strerror(rc) << "\n";
    return 1;
  }
  int fd = ::socket(resolved->ai_family, resolved->ai_socktype | SOCK_CLOEXEC, 0);
  const bool bound = fd >= 0 && ::bind(fd, resolved->ai_addr, resolved->ai_addrlen) == 0;
  const int bind_errno = errno;
  ::freeaddrinfo(resolved);
  if (!bound) {
    std::cerr << "local_daemon: cannot listen on " << options.host << ":" << options.port << ": "
              << std::strerror(bind_errno) << "\n";
    return 1;
  }
  sockaddr_storage local{};
  socklen_t local_length = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length);
  // On stderr, so stdout carries only documents; says the real port when --port 0 was asked.
  std::cerr << "local_daemon: listening on udp " << peer_name(local, local_length) << std::endl;

  std::optional<SamplingProxy> proxy;
  if (!options.sampling_rules.empty()) {
    std::ifstream file(options.sampling_rules);
    json rules = json::parse(file, nullptr, false);
    if (!rules.is_array()) {
      std::cerr << "local_daemon: " << options.sampling_rules << " is not a JSON array of rules\n";
      return 2;
    }
    // The TCP proxy listens where the UDP socket does (the daemon's default: both on :2000).
    int tcp = ::socket(local.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (tcp < 0 || ::bind(tcp, reinterpret_cast<sockaddr*>(&local), local_length) != 0 ||
        ::listen(tcp, 16) != 0) {
      std::cerr << "local_daemon: cannot listen on tcp " << peer_name(local, local_length) << ": "
                << std::strerror(errno) << "\n";
      return 1;
    }
    std::cerr << "local_daemon: sampling proxy on tcp " << peer_name(local, local_length)
              << " with " << rules.size() << " rules" << std::endl;
    proxy.emplace(tcp, std::move(rules));
  }

  struct sigaction action {};
  action.sa_handler = on_signal;  // no SA_RESTART: poll() returns EINTR at once
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);

  std::string buffer(65536, '\0');
  long received = 0;
  auto last_activity = Clock::now();
  while (!g_stop && (options.once == 0 || received < options.once)) {
    // Bounded wait: a signal landing just before poll() would otherwise go unnoticed.
    pollfd pfds[2] = {{fd, POLLIN, 0}, {proxy ? proxy->fd() : -1, POLLIN, 0}};
    int ready = ::poll(pfds, 2, 200);
    if (ready > 0 && (pfds[1].revents & POLLIN) != 0) {
      try {
        proxy->serve_one();
      } catch (const std::exception& e) {
        std::cerr << "local_daemon: warning: sampling request failed: " << e.what() << std::endl;
      }
      last_activity = Clock::now();
      if ((pfds[0].revents & POLLIN) == 0) continue;
    }
    if (ready <= 0) {
      std::chrono::duration<double> idle = Clock::now() - last_activity;
      if (options.timeout > 0 && idle.count() >= options.timeout) break;
      continue;
    }
    sockaddr_storage peer{};
    socklen_t peer_length = sizeof peer;
    ssize_t n = ::recvfrom(fd, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&peer),
                           &peer_length);
    if (n < 0) continue;
    ++received;
    last_activity = Clock::now();

    const std::string datagram = buffer.substr(0, static_cast<std::size_t>(n));
    json document;
    if (std::string problem = check(datagram, document); !problem.empty()) {
      std::cerr << "local_daemon: warning: " << problem << " (" << n << " bytes from "
                << peer_name(peer, peer_length) << ")" << std::endl;
      continue;
    }
    // Formatted whole before printing: a field of an unexpected JSON type throws half-way.
    std::ostringstream tree;
    try {
      print_document(tree, document);
    } catch (const json::exception& e) {
      std::cerr << "local_daemon: warning: cannot print document: " << e.what() << std::endl;
      continue;
    }
    std::cout << tree.str();
    if (options.print_json) std::cout << datagram.substr(datagram.find('\n') + 1) << "\n";
    std::cout << std::flush;
  }
  ::close(fd);
  if (proxy) ::close(proxy->fd());
  return 0;
}
