// Internal: the oversize ladder of spec §6.2, run by the emitter thread on every document.
//
// `SizeLadder::run` turns one complete tree into datagrams of at most `max_datagram_bytes`
// (header + "\n" + document):
//   1. a document that fits is sent as is;
//   2. otherwise the largest embedded child subtrees are detached, largest first, until the rest
//      fits; each is sent as an independent subsegment (parent_id = the node it hung from) and runs
//      the ladder itself. Counted in `streamed`;
//   3. an entity still too large alone has its metadata values replaced by
//      "[truncated: N bytes]" (largest first), then its sql.sanitized_query cut at a UTF-8 boundary
//      and suffixed "...[truncated]", then exception stack frames removed from the end (added to
//      the exception's `truncated`). Counted in `truncated` when the result is sent;
//   4. what still does not fit is dropped, counted in `dropped_too_large` and logged (rate-limited)
//      as `dropped <segment|subsegment> name="<name>" id=<id> trace_id=<trace_id>: <N> bytes
//      exceeds max datagram <M> bytes`.
// The caller must own the tree exclusively (it is complete and handed off): the ladder mutates it.
//
// Example:
//   SizeLadder ladder(logger);
//   LadderCounters counters;
//   ladder.run(std::move(root), context, 65000, [&](std::string& datagram) { send(datagram); },
//              counters);
//
// Thread safety: thread-compatible; one per emitter thread (it keeps reusable buffers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "log/logger.hpp"
#include "model/entity.hpp"
#include "model/serializer.hpp"

namespace xray::detail {

struct LadderCounters {
  std::uint64_t streamed = 0;           // subtrees split off into their own documents
  std::uint64_t truncated = 0;          // documents sent with fields cut
  std::uint64_t dropped_too_large = 0;  // entities that could not be made to fit
};

class SizeLadder {
 public:
  // Receives each finished datagram; it may swap the string out (the ladder then reuses whatever
  // string it gets back as its next buffer).
  using Sink = std::function<void(std::string& datagram)>;

  explicit SizeLadder(Logger& logger) : logger_(logger) {}

  // Runs the ladder on `root` and every subtree split from it. Never throws: an entity whose
  // serialization fails (out of memory) is dropped and counted like one that is too large.
  void run(std::shared_ptr<Entity> root, const DocumentContext& context,
           std::size_t max_datagram_bytes, const Sink& sink, LadderCounters& counters) noexcept;

 private:
  void fit(Entity& entity, const DocumentContext& context, const Sink& sink,
           LadderCounters& counters);
  // Writes header + document into buffer_; true when it fits.
  bool serialize(const Entity& entity, const DocumentContext& context);
  bool split(Entity& entity, const DocumentContext& context, LadderCounters& counters);
  bool truncate_metadata(Entity& entity, const DocumentContext& context);
  bool truncate_sql(Entity& entity, const DocumentContext& context);
  bool truncate_stacks(Entity& entity, const DocumentContext& context);

  Logger& logger_;
  std::size_t max_ = 0;
  std::string buffer_;   // the datagram being built
  std::string scratch_;  // weighing subtrees and values
  std::vector<std::shared_ptr<Entity>> pending_;  // split-off subtrees still to send
};

}  // namespace xray::detail
