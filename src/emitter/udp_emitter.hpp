// Internal: the emitter that sends each document as one UDP datagram to the daemon.
//
// Request threads push finished trees into a bounded queue (full: the new tree is dropped and
// counted). One background thread, started with the first submission, serializes each tree into a
// reused buffer and sends `{"format":"json","version":1}\n<document>` on a connected UDP socket.
// Host names are resolved on that thread, never on a request thread.
//
// After fork() the child discards the parent's queue and starts its own thread on its next
// submission.
// Thread safety: thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "emitter/daemon_address.hpp"
#include "emitter/emitter.hpp"
#include "log/logger.hpp"
#include "recorder/plugin_state.hpp"

namespace xray::detail {

class UdpEmitter final : public Emitter {
 public:
  static constexpr std::size_t kDefaultMaxDatagramBytes = 65000;
  static constexpr std::chrono::seconds kResolveInterval{60};

  UdpEmitter(Logger& logger, const PluginState& plugins, std::size_t queue_capacity);
  ~UdpEmitter() override;

  void submit(std::shared_ptr<Entity> root) noexcept override;
  bool flush(std::chrono::milliseconds timeout) noexcept override;
  Stats stats() const noexcept override;
  void shutdown(std::chrono::milliseconds timeout) noexcept override;

  // Takes effect before the next datagram.
  void set_address(const DaemonAddress& address) noexcept;
  void set_queue_capacity(std::size_t capacity) noexcept;

  // Called by the fork handlers (see udp_emitter.cpp).
  void before_fork() noexcept;
  void after_fork_parent() noexcept;
  void after_fork_child() noexcept;

 private:
  struct Socket;
  struct Shared;

  void run() noexcept;
  void send_document(Socket& socket, const Entity& root, std::string& buffer) noexcept;

  Logger& logger_;
  const PluginState& plugins_;
  // Heap-allocated so a forked child can abandon the parent's (locked, waited-on) state.
  std::unique_ptr<Shared> shared_;

  std::atomic<std::uint64_t> emitted_{0};
  std::atomic<std::uint64_t> dropped_queue_full_{0};
  std::atomic<std::uint64_t> dropped_too_large_{0};
  std::atomic<std::uint64_t> send_errors_{0};
  std::atomic<std::uint64_t> bytes_sent_{0};
  std::atomic<std::uint64_t> datagrams_sent_{0};
  std::atomic<std::uint64_t> streamed_{0};
  std::atomic<std::uint64_t> truncated_{0};
};

}  // namespace xray::detail
