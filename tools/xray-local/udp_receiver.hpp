// udp_receiver.hpp: the daemon's UDP port: a bound socket and the loop that reads datagrams from it.
//
//   std::string error;
//   auto receiver = xray::local::UdpReceiver::bind("127.0.0.1", 2000, &error);
//   if (!receiver) fail(error);  // "cannot listen on udp 127.0.0.1:2000: Address already in use"
//   std::thread t([&] { receiver->run([](std::string_view bytes, bool truncated) { ... }); });
//   receiver->stop(); t.join();
//
// The receive buffer is asked for 8 MiB (SO_RCVBUFFORCE, then SO_RCVBUF, which the kernel caps);
// receive_buffer() says what was granted. Datagrams are read in batches (recvmmsg) into 64 KiB
// buffers; one longer than that is reported as truncated. What the kernel drops from a full
// buffer is counted (kernel_drops).
//
// Thread safety: run on one thread; stop, port and the accessors from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace xray::local {

class UdpReceiver {
 public:
  using Handler = std::function<void(std::string_view bytes, bool truncated)>;

  // Binds `host` (an IP literal or a name, resolved now) and `port` (0: any free port).
  static std::unique_ptr<UdpReceiver> bind(const std::string& host, std::uint16_t port,
                                           std::string* error);
  ~UdpReceiver();
  UdpReceiver(const UdpReceiver&) = delete;
  UdpReceiver& operator=(const UdpReceiver&) = delete;

  // Calls `handler` for every datagram until stop(); returns then.
  void run(const Handler& handler);
  void stop() noexcept { stop_.store(true); }

  std::uint16_t port() const noexcept { return port_; }
  bool ipv6() const noexcept { return ipv6_; }
  int receive_buffer() const noexcept { return receive_buffer_; }
  // Datagrams the kernel dropped because the receive buffer was full (SO_RXQ_OVFL), as of the
  // latest datagram read: drops after it are seen with the next one.
  std::uint64_t kernel_drops() const noexcept { return kernel_drops_.load(std::memory_order_relaxed); }

 private:
  UdpReceiver(int fd, std::uint16_t port, bool ipv6);

  const int fd_;
  const std::uint16_t port_;
  const bool ipv6_;
  int receive_buffer_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> kernel_drops_{0};
};

}  // namespace xray::local
