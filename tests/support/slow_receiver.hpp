// Test fixture: a UDP receiver shaped like a modest daemon, to measure delivery under bursts.
//
// Contract:
//   - Binds 127.0.0.1:0 and keeps the kernel's default receive buffer (SO_RCVBUF is not set; on
//     stock Debian that is 212,992 bytes). `receive_buffer_bytes()` reads it back.
//   - Reads like the daemon: one thread, one blocking recv(2) per datagram into a fixed buffer,
//     each datagram copied out before the next read; with `parse` it also checks each body is
//     JSON (counting failures). Nothing is stored, so it can count millions.
//   - The destructor stops and joins the thread within one poll interval (~10 ms).
//
// Example:
//   xray::testing::SlowReceiver receiver;
//   config.daemon_address = receiver.address();
//   ... emit 2,000 segments ...
//   receiver.wait_for_quiet(2000, std::chrono::seconds(10), std::chrono::milliseconds(300));
//   EXPECT_GE(receiver.datagrams(), 1980u);
//
// Thread safety: thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

namespace xray::testing {

class SlowReceiver {
 public:
  // Throws std::system_error when the socket cannot be set up.
  explicit SlowReceiver(bool parse = false);
  ~SlowReceiver();
  SlowReceiver(const SlowReceiver&) = delete;
  SlowReceiver& operator=(const SlowReceiver&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::string address() const;  // "127.0.0.1:<port>"
  int receive_buffer_bytes() const noexcept { return receive_buffer_bytes_; }

  std::uint64_t datagrams() const noexcept { return datagrams_.load(std::memory_order_relaxed); }
  std::uint64_t bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }
  std::uint64_t parse_failures() const noexcept {
    return parse_failures_.load(std::memory_order_relaxed);
  }

  // Waits until `count` datagrams arrived, or nothing arrived for `quiet`, or `timeout` passed.
  // Returns datagrams().
  std::uint64_t wait_for_quiet(std::uint64_t count, std::chrono::milliseconds timeout,
                               std::chrono::milliseconds quiet) const;

 private:
  void run() noexcept;

  int fd_ = -1;
  bool parse_ = false;
  std::uint16_t port_ = 0;
  int receive_buffer_bytes_ = 0;
  std::atomic<std::uint64_t> datagrams_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> parse_failures_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last member: started after everything above is initialized
};

}  // namespace xray::testing
