// Internal: the emitter that sends each document as one UDP datagram to the daemon.
//
// Request threads push finished trees into a bounded queue (full: the new tree is dropped and
// counted); `submit` takes one short lock and never waits for I/O. One background thread, started
// with the first submission, runs each tree through the size ladder (size_ladder.hpp, spec §6.2)
// into reused buffers and sends `{"format":"json","version":1}\n<document>` datagrams on a
// connected, non-blocking UDP socket, up to kBatchSize per sendmmsg(2) call (or one send(2) each
// when plain sends are forced). A token bucket paces datagrams (default kDefaultEmitRate, burst
// kDefaultEmitBurst: xray/config.hpp explains the choice) so a burst of ended segments does not overrun the daemon's receive buffer:
// loopback UDP drops silently when the receiver falls behind. Host names are resolved for that
// thread, never on a request thread, at start, every kResolveInterval and after a send error (at
// most every kMinResolveInterval, with backoff while a name fails); a hung lookup is abandoned at
// kResolveTimeout or the shutdown deadline (net/resolver.hpp).
//
// Send failures never throw: EAGAIN waits for writability up to kWritableWait and then counts the
// rest of the batch as send_errors; ECONNREFUSED and other errors count one send_error per
// datagram (logged, rate-limited); EMSGSIZE counts dropped_too_large and advises a smaller max
// datagram size.
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
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "xray/daemon_address.hpp"
#include "emitter/emitter.hpp"
#include "log/logger.hpp"
#include "model/serializer.hpp"

namespace xray::detail {

class UdpEmitter final : public Emitter {
 public:
  static constexpr std::chrono::seconds kResolveInterval{60};
  // Re-resolution after a send error or a failed lookup waits at least this long, doubling while
  // the name keeps failing, up to kMaxResolveBackoff.
  static constexpr std::chrono::seconds kMinResolveInterval{2};
  static constexpr std::chrono::seconds kMaxResolveBackoff{60};
  // How long the emitter thread waits for one lookup (the lookup itself may go on, abandoned).
  static constexpr std::chrono::seconds kResolveTimeout{5};
  // How often the emitter thread looks at the queue on its own: request threads do not wake it
  // (no system call on the request path) unless the queue is half full. Bounds emission latency.
  static constexpr std::chrono::milliseconds kIdlePoll{5};
  // Datagrams per sendmmsg call.
  static constexpr std::size_t kBatchSize = 32;
  // How long an EAGAIN waits for the socket to become writable before the batch is counted lost.
  static constexpr std::chrono::milliseconds kWritableWait{50};

  // What each segment document gets at serialization (the recorder's plugin data); called on the
  // emitter thread before each pass, may return null.
  using AdditionsSource = std::function<std::shared_ptr<const DocumentAdditions>()>;

  UdpEmitter(Logger& logger, AdditionsSource additions, std::size_t queue_capacity);
  ~UdpEmitter() override;

  void configure(const EmitterOptions& options) noexcept override;
  void submit(std::shared_ptr<Entity> root) noexcept override;
  bool flush(std::chrono::milliseconds timeout) noexcept override;
  Stats stats() const noexcept override;
  void shutdown(std::chrono::milliseconds timeout) noexcept override;

  // Takes effect before the next datagram.
  void set_address(const DaemonAddress& address) noexcept;
  void set_queue_capacity(std::size_t capacity) noexcept;
  // Bounds header + "\n" + document (§1.2). Returns false, keeping the previous value, outside
  // kMinDatagramBytes..kMaxDatagramBytes.
  bool set_max_datagram_bytes(std::size_t bytes) noexcept;
  // Datagrams per second and bucket size; a rate of 0 disables pacing.
  void set_pacing(double datagrams_per_second, std::size_t burst) noexcept;
  // true: one send(2) per datagram instead of sendmmsg(2) (for platforms or tests without it).
  void set_force_plain_send(bool plain) noexcept;

  // Called by the fork handlers (see udp_emitter.cpp).
  void before_fork() noexcept;
  void after_fork_parent() noexcept;
  void after_fork_child() noexcept;

 private:
  struct Socket;
  struct Shared;
  struct Batch;

  void run() noexcept;
  // Shutting down and past shutdown's deadline: stop sending, count the rest dropped_at_shutdown.
  bool past_drain_deadline() const noexcept;
  // Resolves `address` (bounded by kResolveTimeout and the shutdown deadline) and connects.
  void connect(Socket& socket, const DaemonAddress& address) noexcept;
  // Sends the batch's datagrams (paced), counts the outcome and empties it.
  void send_batch(Socket& socket, Batch& batch) noexcept;
  // Returns how many datagrams, starting at `first`, the failed call disposed of (counted).
  std::size_t handle_send_error(Socket& socket, Batch& batch, std::size_t first, int error) noexcept;

  Logger& logger_;
  const AdditionsSource additions_;
  // Heap-allocated so a forked child can abandon the parent's (locked, waited-on) state.
  std::unique_ptr<Shared> shared_;

  // Settings read by the emitter thread before each batch.
  std::atomic<std::size_t> max_datagram_bytes_{kDefaultMaxDatagramBytes};
  std::atomic<double> pacing_rate_{kDefaultEmitRate};
  std::atomic<std::size_t> pacing_burst_{kDefaultEmitBurst};
  std::atomic<std::uint64_t> pacing_generation_{0};  // bumped by set_pacing
  std::atomic<bool> force_plain_send_{false};

  std::atomic<std::uint64_t> emitted_{0};
  std::atomic<std::uint64_t> dropped_queue_full_{0};
  std::atomic<std::uint64_t> dropped_at_shutdown_{0};
  std::atomic<std::uint64_t> dropped_too_large_{0};
  std::atomic<std::uint64_t> send_errors_{0};
  std::atomic<std::uint64_t> bytes_sent_{0};
  std::atomic<std::uint64_t> datagrams_sent_{0};
  std::atomic<std::uint64_t> streamed_{0};
  std::atomic<std::uint64_t> truncated_{0};
};

}  // namespace xray::detail
