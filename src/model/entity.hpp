// Internal: the in-memory segment tree.
//
// An EntityTree is one unit of emission: a root entity (a segment, or a subsegment sent on its own)
// and the subsegments embedded under it. Every entity of a tree shares the tree's mutex; the tree is
// handed to the emitter once every entity in it has ended.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/boxed_optional.hpp"
#include "base/spin_lock.hpp"
#include "base/thread_block_cache.hpp"
#include "log/logger.hpp"
#include "model/ids.hpp"

#include "xray/http_request_info.hpp"
#include "xray/sql_info.hpp"
#include "xray/stack.hpp"

namespace xray::detail {

using EntityId = std::uint64_t;  // 0 means "none"

// Estimated size of a subsegment with no fields but its name: ids, times, keys, punctuation.
inline constexpr std::size_t kSubsegmentBaseBytes = 100;

using StackFrame = xray::StackFrame;

struct ExceptionRecord {
  EntityId id = 0;
  std::string type;
  std::string message;
  bool remote = false;
  int truncated = 0;  // stack frames omitted
  int skipped = 0;    // exceptions omitted
  EntityId cause = 0;  // id of the exception that caused this one
  std::vector<StackFrame> stack;
};

struct HttpData {
  std::optional<HttpRequestInfo> request;
  int status = 0;                    // 0: no response recorded
  std::optional<std::uint64_t> content_length;
};

using AnnotationValue = std::variant<std::string, std::int64_t, std::uint64_t, double, bool>;

struct Annotation {
  std::string key;
  AnnotationValue value;
};
// Most entities carry one annotation or none: the first one's storage comes from the thread's
// block cache (base/thread_block_cache.hpp), not from malloc.
using Annotations = std::vector<Annotation, CachedAllocator<Annotation>>;

struct MetadataNamespace {
  std::string name;
  std::vector<std::pair<std::string, nlohmann::json>> entries;  // insertion order, unique keys
};

class EntityTree;

// One segment or subsegment. Fields marked "guarded" are read and written under tree->mutex until
// the tree is complete; after that the emitter owns the entity exclusively.
class Entity {
 public:
  Entity(std::shared_ptr<EntityTree> tree, EntityId id, EntityId parent_id, bool is_segment)
      : tree(std::move(tree)), id(id), parent_id(parent_id), is_segment(is_segment) {}

  // Immutable after construction.
  const std::shared_ptr<EntityTree> tree;
  const EntityId id;
  const EntityId parent_id;  // segment: upstream Parent (0 if none); subsegment: direct parent
  const bool is_segment;

  // Guarded.
  std::string name;
  std::int64_t start_us = 0;  // epoch microseconds
  std::int64_t end_us = 0;
  bool ended = false;
  bool in_progress = false;  // serialized with in_progress: true instead of end_time
  bool handed_off = false;   // streamed to the emitter ahead of its tree; takes no more children
  std::string namespace_;
  std::string user;
  std::string origin;
  std::string resource_arn;
  std::string service_version;
  std::string sampling_rule_name;
  BoxedOptional<HttpData> http;  // rarely set and large: on the heap when set
  nlohmann::json aws;  // null or object; user- and integration-set aws.* fields
  BoxedOptional<SqlInfo> sql;
  bool error = false;
  bool throttle = false;
  bool fault = false;
  std::vector<ExceptionRecord> exceptions;
  EntityId cause_id = 0;  // cause written as an id string (exceptions empty)
  Annotations annotations;
  std::vector<MetadataNamespace> metadata;
  std::vector<EntityId> precursor_ids;
  std::vector<std::shared_ptr<Entity>> children;
  // Estimated serialized size of this entity alone, kept up to date as fields are recorded (the
  // request thread never serializes); drives byte-based streaming.
  std::size_t approximate_bytes = 0;
};

// Wall-clock anchor of a trace: one system_clock reading, then steady_clock offsets, so that
// end_time >= start_time even when the wall clock steps.
struct TimeAnchor {
  std::int64_t system_us = 0;
  std::int64_t steady_ns = 0;
};

// What a tree needs from whoever began it (the recorder); model knows it only through this
// interface. Every tree keeps its owner alive, so a tree that completes after its Recorder is gone
// still reaches a valid (shut down) owner, which counts what it can no longer send.
class TreeOwner {
 public:
  virtual ~TreeOwner() = default;
  // Epoch microseconds now, on the trace's time anchor.
  virtual std::int64_t now_us(const TimeAnchor& anchor) const noexcept = 0;
  // A complete tree, or a subtree sent ahead of its segment, for the emitter. Never blocks.
  virtual void hand_off(std::shared_ptr<Entity> document) noexcept = 0;
  // Subtrees handed off ahead of their segment (Stats::streamed).
  virtual void count_streamed(std::size_t count) noexcept = 0;
  // Runs `task` on a background thread at `when` (abandoned subsegments, in-progress copies).
  virtual void schedule(std::chrono::steady_clock::time_point when,
                        std::function<void()> task) noexcept = 0;
  // For warnings about rejected recording calls.
  virtual Logger& logger() noexcept = 0;
};

// The part of the configuration snapshot that a tree's lifecycle reads.
struct TreeSettings {
  bool noop_ids = true;  // unsampled entities get all-zero ids (AWS_XRAY_NOOP_ID != false)
  bool collect_sql_queries = false;
  std::size_t streaming_threshold = 100;
  std::size_t streaming_threshold_bytes = 48750;
  std::chrono::milliseconds abandoned_subsegment_timeout{60000};
  std::chrono::milliseconds in_progress_after{0};
};

class EntityTree {
 public:
  EntityTree(std::shared_ptr<TreeOwner> owner, std::string_view trace_id, bool sampled,
             TimeAnchor anchor)
      : owner(std::move(owner)), trace_id(trace_id), sampled(sampled), anchor(anchor) {}
  EntityTree(std::shared_ptr<TreeOwner> owner, TraceIdText trace_id, bool sampled,
             TimeAnchor anchor)
      : owner(std::move(owner)), trace_id(trace_id), sampled(sampled), anchor(anchor) {}

  // Immutable after construction.
  const std::shared_ptr<TreeOwner> owner;  // null only in tests
  const TraceIdText trace_id;
  const bool sampled;
  const TimeAnchor anchor;
  // Set before the tree is shared, then read-only: the configuration snapshot the trace began with
  // and the extras of the incoming trace header, propagated on outbound calls.
  std::shared_ptr<const TreeSettings> settings;
  std::vector<std::pair<std::string, std::string>> extras;
  // AWS Lambda (spec §11): the tree of an invocation's facade segment, which Lambda records and we
  // never send (its root stays null; each subsegment under it is a tree of its own). A
  // pass-through facade (a header without Parent or Sampled) records nothing, and outbound headers
  // carry only its Root and extras.
  bool facade = false;
  bool pass_through = false;

  // Held for a few field writes at a time; see base/spin_lock.hpp for why not std::mutex.
  SpinLock mutex;
  // Guarded by mutex.
  std::shared_ptr<Entity> root;  // null once handed to the emitter (or discarded when unsampled)
  std::size_t open = 0;          // entities of this tree begun and not yet ended
  std::size_t subsegments = 0;   // subsegments currently embedded in the tree
  std::size_t subsegment_bytes = 0;  // their estimated serialized size (approximate_bytes summed)
  // After the segment was sent with subsegments still open (spec §6.1): the open subsegments whose
  // parent has ended, each sent on its own once it and the open ones under it have ended.
  bool abandoned = false;
  std::vector<std::shared_ptr<Entity>> orphans;
  // Facade trees only: the trees of the subsegments begun directly under the facade, so that the
  // end of the invocation can send those still open as in_progress.
  std::vector<std::weak_ptr<EntityTree>> detached;
};

// Entities and trees come from the calling thread's block caches (base/thread_block_cache.hpp):
// a thread that begins and ends traces reuses the same few blocks instead of calling malloc.
template <typename... Args>
std::shared_ptr<EntityTree> new_tree(Args&&... args) {
  return std::allocate_shared<EntityTree>(CachedAllocator<EntityTree>(), std::forward<Args>(args)...);
}
template <typename... Args>
std::shared_ptr<Entity> new_entity(Args&&... args) {
  return std::allocate_shared<Entity>(CachedAllocator<Entity>(), std::forward<Args>(args)...);
}

}  // namespace xray::detail
