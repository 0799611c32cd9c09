// forwarder.hpp: `--forward host:port`: every datagram received is sent on, unchanged, to a real
// X-Ray daemon, so xray-local can sit in front of one.
//
//   auto forwarder = xray::local::Forwarder::connect("127.0.0.1", 2001, &error);
//   forwarder->send(bytes);  // never blocks, never throws; failures are counted
//
// The address is resolved once, at connect. A send that fails (the daemon is not running: ICMP
// port unreachable, a full buffer) is counted in errors().
//
// Thread safety: send from one thread at a time; the counters from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace xray::local {

class Forwarder {
 public:
  static std::unique_ptr<Forwarder> connect(const std::string& host, std::uint16_t port,
                                            std::string* error);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  void send(std::string_view datagram) noexcept;

  std::uint64_t sent() const noexcept { return sent_.load(std::memory_order_relaxed); }
  std::uint64_t errors() const noexcept { return errors_.load(std::memory_order_relaxed); }
  const std::string& target() const noexcept { return target_; }

 private:
  Forwarder(int fd, std::string target) : fd_(fd), target_(std::move(target)) {}

  const int fd_;
  const std::string target_;
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> errors_{0};
};

}  // namespace xray::local
