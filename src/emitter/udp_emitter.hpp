// Internal: the emitter that sends each document as one UDP datagram to the daemon.
//
// Request threads push finished trees into a queue bounded in documents and in bytes (full: the new
// tree is dropped and counted); `submit` takes one short lock and never waits for I/O. The byte
// bound charges each tree the memory it holds, estimated from its entities' approximate_bytes
// (model/entity.hpp, kept up to date as fields are recorded) and the size of the objects
// (kEntityBytes, kDocumentBaseBytes), so nothing is serialized on a request thread; a
// tree stays charged until the emitter thread has sent it, so the bound covers what the SDK holds,
// not only what waits. An empty queue takes a tree of any size (it exists already; refusing it
// would only lose it). While the queue is full, request threads refuse documents without taking
// the lock: they read one flag that changes a few times per emitter pass and count the drop in a
// per-thread slot (striped_counter.hpp), so a burst of drops on two cores shares no written cache
// line; the emitter thread, not the request thread, logs that documents were dropped. One
// background thread, started
// with the first submission, runs each tree through the size ladder (size_ladder.hpp, spec §6.2)
// into reused buffers and hands `{"format":"json","version":1}\n<document>` datagrams, up to
// kBatchSize at a time, to its transport (datagram_transport.hpp): by default UdpTransport, a
// connected non-blocking UDP socket that resolves the daemon's name on this thread, never on a
// request thread. A token bucket paces datagrams (default kDefaultEmitRate, burst
// kDefaultEmitBurst: xray/config.hpp explains the choice) so a burst of ended segments does not
// overrun the daemon's receive buffer: loopback UDP drops silently when the receiver falls
// behind. While the transport cannot reach the daemon, documents stay queued until it can or
// shutdown's deadline passes.
//
// Send failures never throw: the transport reports what it sent and lost, and the emitter counts
// them (send_errors, dropped_too_large; a document counts in `emitted` once, however many
// datagrams the ladder made of it).
//
// After fork() the child discards the parent's queue and starts its own thread (and transport) on
// its next submission.
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

#include "emitter/datagram_transport.hpp"
#include "emitter/emitter.hpp"
#include "emitter/striped_counter.hpp"
#include "log/logger.hpp"
#include "model/serializer.hpp"
#include "xray/daemon_address.hpp"

namespace xray::detail {

class UdpEmitter final : public Emitter {
 public:
  // How often the emitter thread looks at the queue on its own: request threads do not wake it
  // (no system call on the request path) unless the queue is half full. Bounds emission latency.
  static constexpr std::chrono::milliseconds kIdlePoll{5};
  // While the daemon's name does not resolve, how often the waiting thread reports drops.
  static constexpr std::chrono::seconds kDropReportInterval{1};
  // Datagrams handed to the transport at a time.
  static constexpr std::size_t kBatchSize = 32;
  // The byte bound is about memory: a tree is charged what it holds, which for small entities is
  // mostly the entity objects themselves (sizeof(Entity) is several times a small subsegment's
  // serialized size). Each entity: its recorded fields (approximate_bytes), the object, its
  // shared_ptr control block and allocator headers.
  static constexpr std::size_t kEntityBytes = sizeof(Entity) + 32;
  // Each tree: the EntityTree (trace id, mutex, settings) and its allocations.
  static constexpr std::size_t kDocumentBaseBytes = sizeof(EntityTree) + 64;

  // What the byte bound charges for `root` and the subtree under it.
  static std::size_t document_bytes(const Entity& root) noexcept;

  // What each segment document gets at serialization (the recorder's plugin data); called on the
  // emitter thread before each pass, may return null.
  using AdditionsSource = std::function<std::shared_ptr<const DocumentAdditions>()>;

  // `transport` makes the emitter thread's transport; empty: UdpTransport.
  UdpEmitter(Logger& logger, AdditionsSource additions, std::size_t queue_capacity,
             TransportFactory transport = nullptr);
  ~UdpEmitter() override;

  void configure(const EmitterOptions& options) noexcept override;
  void submit(std::shared_ptr<Entity> root) noexcept override;
  bool flush(std::chrono::milliseconds timeout) noexcept override;
  Stats stats() const noexcept override;
  void shutdown(std::chrono::milliseconds timeout) noexcept override;

  // Takes effect before the next datagram.
  void set_address(const DaemonAddress& address) noexcept;
  // Documents, and bytes (0: capacity * kTypicalDocumentBytes), the queue holds.
  void set_queue_capacity(std::size_t capacity, std::size_t capacity_bytes = 0) noexcept;
  // Bounds header + "\n" + document (§1.2). Returns false, keeping the previous value, outside
  // kMinDatagramBytes..kMaxDatagramBytes.
  bool set_max_datagram_bytes(std::size_t bytes) noexcept;
  // Datagrams per second and bucket size; a rate of 0 disables pacing.
  void set_pacing(double datagrams_per_second, std::size_t burst) noexcept;
  // true: UdpTransport sends one send(2) per datagram instead of sendmmsg(2) (for platforms or
  // tests without it).
  void set_force_plain_send(bool plain) noexcept;

  // Called by the fork handlers (see udp_emitter.cpp).
  void before_fork() noexcept;
  void after_fork_parent() noexcept;
  void after_fork_child() noexcept;

 private:
  struct Shared;
  struct Batch;

  void run() noexcept;
  // Shutting down and past shutdown's deadline: stop sending, count the rest dropped_at_shutdown.
  bool past_drain_deadline() const noexcept;
  // Hands the batch's datagrams to the transport (paced), counts the outcome and empties it.
  void send_batch(DatagramTransport& transport, Batch& batch) noexcept;
  // Counts a document refused at submit.
  void refuse(bool closed) noexcept;
  // Emitter thread: logs (rate-limited) when documents were dropped at a full queue since the last
  // call.
  void report_drops() noexcept;

  Logger& logger_;
  const AdditionsSource additions_;
  const TransportFactory transport_factory_;
  // Heap-allocated so a forked child can abandon the parent's (locked, waited-on) state.
  std::unique_ptr<Shared> shared_;

  // Settings read by the emitter thread before each batch.
  std::atomic<std::size_t> max_datagram_bytes_{kDefaultMaxDatagramBytes};
  std::atomic<double> pacing_rate_{kDefaultEmitRate};
  std::atomic<std::size_t> pacing_burst_{kDefaultEmitBurst};
  std::atomic<std::uint64_t> pacing_generation_{0};  // bumped by set_pacing
  std::atomic<bool> force_plain_send_{false};

  std::atomic<std::uint64_t> emitted_{0};
  StripedCounter dropped_queue_full_;
  std::uint64_t reported_drops_ = 0;  // emitter thread only
  std::atomic<std::uint64_t> dropped_at_shutdown_{0};
  std::atomic<std::uint64_t> dropped_too_large_{0};
  std::atomic<std::uint64_t> send_errors_{0};
  std::atomic<std::uint64_t> bytes_sent_{0};
  std::atomic<std::uint64_t> datagrams_sent_{0};
  std::atomic<std::uint64_t> streamed_{0};
  std::atomic<std::uint64_t> truncated_{0};
};

}  // namespace xray::detail
