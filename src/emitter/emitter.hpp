// Internal: the hand-off from finished entity trees to the network.
//
// `submit` is called on request threads when a tree completes; it must never block or do I/O.
// Implementations serialize and send on their own thread.
// Thread safety: every member is thread-safe.
#pragma once

#include <chrono>
#include <memory>

#include "model/entity.hpp"
#include "xray/config.hpp"
#include "xray/daemon_address.hpp"
#include "xray/stats.hpp"

namespace xray::detail {

// What the recorder's configuration sets on its emitter. Defaults are Config's (xray/config.hpp).
struct EmitterOptions {
  DaemonAddress address = default_daemon_address();
  std::size_t queue_capacity = kDefaultQueueCapacity;
  std::size_t queue_capacity_bytes = 0;  // 0: queue_capacity * kTypicalDocumentBytes
  std::size_t max_datagram_bytes = kDefaultMaxDatagramBytes;  // within the bounds of config.hpp
  double datagrams_per_second = kDefaultEmitRate;               // 0: unpaced
  std::size_t burst = kDefaultEmitBurst;
};

class Emitter {
 public:
  virtual ~Emitter() = default;
  // Applies `options` before the next document; an emitter without a network (a test's) ignores
  // them. Values are validated by the recorder's configure().
  virtual void configure(const EmitterOptions& options) noexcept { (void)options; }
  // Queues a complete tree (its root: a segment or an independent subsegment). Never blocks.
  virtual void submit(std::shared_ptr<Entity> root) noexcept = 0;
  // Waits until everything submitted before the call has been sent or dropped.
  virtual bool flush(std::chrono::milliseconds timeout) noexcept = 0;
  virtual Stats stats() const noexcept = 0;
  // Sends what is queued within `timeout`, then stops; later submissions are dropped and counted.
  virtual void shutdown(std::chrono::milliseconds timeout) noexcept = 0;
};

}  // namespace xray::detail
