// Internal: the hand-off from finished entity trees to the network.
//
// `submit` is called on request threads when a tree completes; it must never block or do I/O.
// Implementations serialize and send on their own thread.
// Thread safety: every member is thread-safe.
#pragma once

#include <chrono>
#include <memory>

#include "model/entity.hpp"
#include "xray/stats.hpp"

namespace xray::detail {

class Emitter {
 public:
  virtual ~Emitter() = default;
  // Queues a complete tree (its root: a segment or an independent subsegment). Never blocks.
  virtual void submit(std::shared_ptr<Entity> root) noexcept = 0;
  // Waits until everything submitted before the call has been sent or dropped.
  virtual bool flush(std::chrono::milliseconds timeout) noexcept = 0;
  virtual Stats stats() const noexcept = 0;
  // Sends what is queued within `timeout`, then stops; later submissions are dropped and counted.
  virtual void shutdown(std::chrono::milliseconds timeout) noexcept = 0;
};

}  // namespace xray::detail
