// What a request thread feels while a dependency of the SDK misbehaves (issue 14, fault injection).
//
// Each benchmark runs 1,000,000 sampled requests (6,000,000 for the daemon moving; a segment with
// three subsegments, one string annotation each, the request shape of the performance issue) on
// one thread against one fault, set up on loopback in this process, and reports:
//   ns/request (the benchmark's time), rss_growth_kb (VmRSS after the million minus before),
//   shutdown_ms (destroying the recorder, shutdown_timeout 1 s), dropped (queue full: the emitter
//   is paced at the default 5,000/s while the thread ends requests as fast as it can); the moving
//   daemon also reports the lookups made and the datagrams that reached the new address.
// Compare each fault with `healthy` (and the proxy faults with `proxy_healthy`).
//
// Build: cmake --preset bench && cmake --build build/bench && build/bench/bench/fault_bench
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "resident_memory.hpp"

#include "net/resolver.hpp"
#include "xray/plugins.hpp"
#include "xray/recorder.hpp"

namespace {

using xray::bench::rss_kb;

using namespace std::chrono_literals;

int bound_socket(int type, std::uint16_t* port) {
  int fd = ::socket(AF_INET, type, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  *port = ntohs(address.sin_port);
  return fd;
}

// A UDP socket on ::1 at `port` (the port another peer has on 127.0.0.1), or -1.
int bound_v6_datagram_socket(std::uint16_t port) {
  int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  address.sin6_port = htons(port);
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    fd = -1;
  }
  return fd;
}

// A UDP port that drains (healthy) or never reads; or a closed one.
class UdpPeer {
 public:
  enum Mode { kDrains, kNeverReads, kClosed };
  explicit UdpPeer(Mode mode) { start(mode, bound_socket(SOCK_DGRAM, &port_)); }
  // Drains on ::1 at `port`; valid() is false when ::1 or the port is unavailable.
  explicit UdpPeer(std::uint16_t v6_port) : port_(v6_port) { start(kDrains, bound_v6_datagram_socket(v6_port)); }
  ~UdpPeer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  bool valid() const { return fd_ >= 0; }
  std::uint16_t port() const { return port_; }
  std::uint64_t datagrams() const { return datagrams_.load(); }

 private:
  void start(Mode mode, int fd) {
    fd_ = fd;
    if (fd_ < 0) return;
    if (mode == kClosed) {
      ::close(fd_);
      fd_ = -1;
    } else if (mode == kDrains) {
      timeval wake{0, 20 * 1000};
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wake, sizeof wake);
      thread_ = std::thread([this] {
        char buffer[65536];
        while (!stop_) {
          if (::recv(fd_, buffer, sizeof buffer, 0) > 0) datagrams_.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<std::uint64_t> datagrams_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A TCP server answering every connection with `behave(fd)` on a thread of its own.
class TcpPeer {
 public:
  explicit TcpPeer(std::function<void(int, const std::atomic<bool>&)> behave) : behave_(std::move(behave)) {
    fd_ = bound_socket(SOCK_STREAM, &port_);
    ::listen(fd_, 64);
    timeval wake{0, 20 * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wake, sizeof wake);
    thread_ = std::thread([this] {
      std::vector<std::thread> connections;
      while (!stop_) {
        int connection = ::accept(fd_, nullptr, nullptr);
        if (connection < 0) continue;
        connections.emplace_back([this, connection] {
          char request[8192];
          (void)::recv(connection, request, sizeof request, 0);
          behave_(connection, stop_);
          ::close(connection);
        });
      }
      for (auto& connection : connections) connection.join();
    });
  }
  ~TcpPeer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }

 private:
  std::function<void(int, const std::atomic<bool>&)> behave_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void send_all(int fd, const std::string& text) { (void)::send(fd, text.data(), text.size(), MSG_NOSIGNAL); }

void hang(int, const std::atomic<bool>& stop) {
  while (!stop) std::this_thread::sleep_for(10ms);
}

void trickle(int fd, const std::atomic<bool>& stop) {
  const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"SamplingRuleRecords\":[]}";
  for (char c : reply) {
    if (stop) return;
    send_all(fd, std::string(1, c));
    for (int i = 0; i < 100 && !stop; ++i) std::this_thread::sleep_for(10ms);  // one byte a second
  }
}

void huge(int fd, const std::atomic<bool>& stop, std::size_t bytes) {
  send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(bytes) + "\r\n\r\n");
  const std::string chunk(64 * 1024, ' ');
  for (std::size_t sent = 0; sent < bytes && !stop; sent += chunk.size()) {
    if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) return;
  }
}

void error_500(int fd, const std::atomic<bool>&) {
  send_all(fd, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}");
}

std::string rule_json(const std::string& name, int priority, const std::string& path, double rate) {
  return R"({"SamplingRule":{"RuleName":")" + name + R"(","ResourceARN":"*","Priority":)" +
         std::to_string(priority) + R"(,"FixedRate":)" + std::to_string(rate) +
         R"(,"ReservoirSize":0,"ServiceName":"*","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":")" +
         path + R"(","Version":1,"Attributes":{}}})";
}

void rules_reply(int fd, const std::string& records) {
  const std::string body = R"({"SamplingRuleRecords":[)" + records + "]}";
  send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

void healthy_proxy(int fd, const std::atomic<bool>&) { rules_reply(fd, rule_json("Default", 10000, "*", 1.0)); }

void invalid_json(int fd, const std::atomic<bool>&) {
  const std::string body = R"({"SamplingRuleRecords":[{"SamplingRule":{"RuleName":"cut)";
  send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

// Every metadata request (the IMDS token and the identity document) answered with the wrong types.
void wrong_types(int fd, const std::atomic<bool>&) {
  const std::string body = R"({"instanceId":5,"availabilityZone":[],"instanceType":{"a":null},"imageId":true})";
  send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

void absurd_proxy(int fd, const std::atomic<bool>&) {
  // 10,000 rules with duplicate names and out-of-range values, none matching the request's path.
  std::string records;
  for (int i = 0; i < 10000; ++i) {
    if (i) records += ',';
    records += rule_json("r" + std::to_string(i % 5000), i, "/never/" + std::to_string(i), i % 3 ? 2.5 : -1);
  }
  rules_reply(fd, records);
}

xray::detail::Resolution failing_lookup(const std::string&, xray::detail::SocketKind) {
  xray::detail::Resolution resolution;
  resolution.error = "Name or service not known";
  return resolution;
}

xray::detail::Resolution slow_lookup(const std::string&, xray::detail::SocketKind) {
  std::this_thread::sleep_for(3s);
  xray::detail::Resolution resolution;
  resolution.addresses = {"127.0.0.1"};
  return resolution;
}

// The daemon's name first answers 127.0.0.1, where nothing listens, then ::1, where it drains.
std::atomic<int> g_moving_lookups{0};
xray::detail::Resolution moving_lookup(const std::string&, xray::detail::SocketKind) {
  xray::detail::Resolution resolution;
  resolution.addresses = {g_moving_lookups.fetch_add(1) == 0 ? "127.0.0.1" : "::1"};
  return resolution;
}

constexpr std::int64_t kRequests = 1'000'000;
const char* const kSampleAll = R"({"version":2,"default":{"fixed_target":0,"rate":1}})";

void run_requests(benchmark::State& state, xray::Config config) {
  config.service_name = "fault-bench";
  config.log_level = xray::LogLevel::kSilent;
  config.shutdown_timeout = 1s;
  auto recorder = std::make_unique<xray::Recorder>();
  recorder->configure(config);
  xray::SamplingRequest request;
  request.host = "shop.example.com";
  request.method = "GET";
  request.url_path = "/checkout";
  const xray::TraceHeader none;
  const long rss_before = rss_kb();
  for (auto _ : state) {
    auto segment = recorder->begin_segment("fault-bench", none, request);
    for (int i = 0; i < 3; ++i) {
      auto call = recorder->begin_subsegment("call");
      call.put_annotation("table", "orders");
    }
  }
  const long rss_after = rss_kb();
  xray::Stats stats = recorder->stats();
  const auto start = std::chrono::steady_clock::now();
  recorder.reset();
  const double shutdown_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  state.counters["rss_growth_kb"] = static_cast<double>(rss_after - rss_before);
  state.counters["shutdown_ms"] = shutdown_ms;
  state.counters["dropped"] = static_cast<double>(stats.dropped_queue_full);
  state.counters["emitted"] = static_cast<double>(stats.emitted);
  state.counters["send_errors"] = static_cast<double>(stats.send_errors);
}

xray::Config udp_config(std::uint16_t port) {
  xray::Config config;
  config.daemon_address = "127.0.0.1:" + std::to_string(port);
  config.sampling = false;  // every request sampled
  return config;
}

void BM_Healthy(benchmark::State& state) {
  UdpPeer daemon(UdpPeer::kDrains);
  run_requests(state, udp_config(daemon.port()));
}

void BM_DaemonPortClosed(benchmark::State& state) {
  UdpPeer daemon(UdpPeer::kClosed);
  run_requests(state, udp_config(daemon.port()));
}

void BM_DaemonNeverReads(benchmark::State& state) {
  UdpPeer daemon(UdpPeer::kNeverReads);
  run_requests(state, udp_config(daemon.port()));
}

void BM_DaemonNameDoesNotResolve(benchmark::State& state) {
  xray::detail::set_lookup_for_testing(&failing_lookup);
  xray::Config config;
  config.daemon_address = "nowhere.invalid:2000";
  config.sampling = false;
  run_requests(state, config);
  xray::detail::set_lookup_for_testing(nullptr);
}

void BM_DaemonNameResolvesSlowly(benchmark::State& state) {
  xray::detail::set_lookup_for_testing(&slow_lookup);
  UdpPeer daemon(UdpPeer::kDrains);
  xray::Config config;
  config.daemon_address = "slow.invalid:" + std::to_string(daemon.port());
  config.sampling = false;
  run_requests(state, config);
  xray::detail::set_lookup_for_testing(nullptr);
}

void BM_DaemonMovesBehindTheSameName(benchmark::State& state) {
  std::uint16_t port = 0;
  ::close(bound_socket(SOCK_DGRAM, &port));  // a port closed on 127.0.0.1
  UdpPeer moved(port);
  if (!moved.valid()) {
    state.SkipWithError("::1 or the port is unavailable");
    return;
  }
  g_moving_lookups = 0;
  xray::detail::set_lookup_for_testing(&moving_lookup);
  xray::Config config;
  config.daemon_address = "moving.invalid:" + std::to_string(port);
  config.sampling = false;
  run_requests(state, config);
  xray::detail::set_lookup_for_testing(nullptr);
  state.counters["lookups"] = g_moving_lookups.load();
  state.counters["at_new_address"] = static_cast<double>(moved.datagrams());
}

void run_with_proxy(benchmark::State& state, std::function<void(int, const std::atomic<bool>&)> behave) {
  UdpPeer daemon(UdpPeer::kDrains);
  TcpPeer proxy(std::move(behave));
  xray::Config config;
  config.daemon_address =
      "udp:127.0.0.1:" + std::to_string(daemon.port()) + " tcp:127.0.0.1:" + std::to_string(proxy.port());
  config.sampling = xray::Sampling::local_rules_json(kSampleAll).with_centralized(true);
  run_requests(state, config);
}

void BM_ProxyHealthy(benchmark::State& state) { run_with_proxy(state, &healthy_proxy); }
void BM_ProxyNeverAnswers(benchmark::State& state) { run_with_proxy(state, &hang); }
void BM_ProxyOneBytePerSecond(benchmark::State& state) { run_with_proxy(state, &trickle); }
void BM_ProxyTenMegabytes(benchmark::State& state) {
  run_with_proxy(state, [](int fd, const std::atomic<bool>& stop) { huge(fd, stop, 10u << 20); });
}
void BM_ProxyHttp500(benchmark::State& state) { run_with_proxy(state, &error_500); }
void BM_ProxyInvalidJson(benchmark::State& state) { run_with_proxy(state, &invalid_json); }
void BM_ProxyAbsurdRules(benchmark::State& state) { run_with_proxy(state, &absurd_proxy); }

void run_with_metadata(benchmark::State& state, std::function<void(int, const std::atomic<bool>&)> behave) {
  UdpPeer daemon(UdpPeer::kDrains);
  TcpPeer imds(std::move(behave));
  xray::Config config = udp_config(daemon.port());
  xray::plugins::Ec2Options options;
  options.endpoint = "http://127.0.0.1:" + std::to_string(imds.port());
  config.plugins = {xray::plugins::ec2(options)};
  config.plugin_budget = 10s;
  run_requests(state, config);
}

void BM_MetadataHangs(benchmark::State& state) { run_with_metadata(state, &hang); }
void BM_MetadataTrickles(benchmark::State& state) { run_with_metadata(state, &trickle); }
void BM_MetadataWrongTypes(benchmark::State& state) { run_with_metadata(state, &wrong_types); }
void BM_MetadataFiftyMegabytes(benchmark::State& state) {
  run_with_metadata(state, [](int fd, const std::atomic<bool>& stop) { huge(fd, stop, 50u << 20); });
}

#define FAULT_BENCHMARK(name) BENCHMARK(name)->Iterations(kRequests)->Unit(benchmark::kNanosecond)
FAULT_BENCHMARK(BM_Healthy);
FAULT_BENCHMARK(BM_DaemonPortClosed);
FAULT_BENCHMARK(BM_DaemonNeverReads);
FAULT_BENCHMARK(BM_DaemonNameDoesNotResolve);
FAULT_BENCHMARK(BM_DaemonNameResolvesSlowly);
// Long enough (about 4 s) for the re-resolution that follows send errors (at most one per 2 s).
BENCHMARK(BM_DaemonMovesBehindTheSameName)->Iterations(6 * kRequests)->Unit(benchmark::kNanosecond);
FAULT_BENCHMARK(BM_ProxyHealthy);
FAULT_BENCHMARK(BM_ProxyNeverAnswers);
FAULT_BENCHMARK(BM_ProxyOneBytePerSecond);
FAULT_BENCHMARK(BM_ProxyTenMegabytes);
FAULT_BENCHMARK(BM_ProxyHttp500);
FAULT_BENCHMARK(BM_ProxyInvalidJson);
FAULT_BENCHMARK(BM_ProxyAbsurdRules);
FAULT_BENCHMARK(BM_MetadataHangs);
FAULT_BENCHMARK(BM_MetadataTrickles);
FAULT_BENCHMARK(BM_MetadataWrongTypes);
FAULT_BENCHMARK(BM_MetadataFiftyMegabytes);

}  // namespace

BENCHMARK_MAIN();
