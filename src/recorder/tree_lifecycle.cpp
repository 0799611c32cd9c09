// The entity-tree lifecycle: beginning segments (sampling, ids, the tree) and subsegments,
// ending entities, streaming completed subtrees of large segments, abandoned subsegments and
// in-progress copies (spec §6.1), and the hand-off of complete trees to the emitter.
#include "recorder/recorder_core.hpp"  // declares begin_segment, begin_subsegment, end_entity

#include <algorithm>

#include "model/ids.hpp"
#include "model/names.hpp"

namespace xray::detail {
namespace {

// Whether `entity` and everything under it has ended; counts the subsegments of the subtree.
bool complete_subtree(const Entity& entity, std::size_t& count) {
  bool complete = entity.ended;
  for (const auto& child : entity.children) {
    ++count;
    complete = complete_subtree(*child, count) && complete;
  }
  return complete;
}

// Marks a subtree as handed to the emitter; returns its estimated size.
std::size_t mark_handed_off(Entity& entity) {
  entity.handed_off = true;
  std::size_t bytes = entity.approximate_bytes;
  for (auto& child : entity.children) bytes += mark_handed_off(*child);
  return bytes;
}

struct Removed {
  std::size_t subsegments = 0;
  std::size_t bytes = 0;
};

// Detaches every complete child subtree under `node` (spec §6.1); says how much left the tree.
Removed stream_complete_children(Entity& node, std::vector<std::shared_ptr<Entity>>& out) {
  Removed removed;
  auto keep = node.children.begin();
  for (auto& child : node.children) {
    std::size_t count = 1;
    if (complete_subtree(*child, count)) {
      removed.bytes += mark_handed_off(*child);
      removed.subsegments += count;
      out.push_back(std::move(child));
    } else {
      Removed below = stream_complete_children(*child, out);
      removed.subsegments += below.subsegments;
      removed.bytes += below.bytes;
      *keep++ = std::move(child);
    }
  }
  node.children.erase(keep, node.children.end());
  return removed;
}

// A copy of `node` for a document sent while parts of the tree are still open: complete child
// subtrees move into the copy (they are sent now, exactly once); incomplete children are copied,
// open ones marked in_progress, and stay in `node` to be sent when they complete.
std::shared_ptr<Entity> snapshot_open_tree(Entity& node) {
  auto copy = new_entity(node);
  copy->children.clear();
  copy->in_progress = !node.ended;
  auto keep = node.children.begin();
  for (auto& child : node.children) {
    std::size_t count = 0;
    if (complete_subtree(*child, count)) {
      mark_handed_off(*child);
      copy->children.push_back(std::move(child));
    } else {
      copy->children.push_back(snapshot_open_tree(*child));
      *keep++ = std::move(child);
    }
  }
  node.children.erase(keep, node.children.end());
  return copy;
}

// After snapshot_open_tree: every ended entity under `node` has just gone out complete, so it
// leaves the tree and is never sent again; every open one stays, to be sent once when it and what
// stays under it complete. An open entity whose parent is open goes out embedded in that parent's
// document; one whose parent has ended is an orphan, sent on its own under the parent's id.
void keep_open_entities(Entity& node, std::vector<std::shared_ptr<Entity>>& orphans) {
  auto keep = node.children.begin();
  for (auto& child : node.children) {
    keep_open_entities(*child, orphans);
    if (child->ended) {
      child->handed_off = true;  // dropped here: its copy in the snapshot was its final document
    } else if (node.ended) {
      orphans.push_back(std::move(child));
    } else {
      *keep++ = std::move(child);
    }
  }
  node.children.erase(keep, node.children.end());
}

// Spec §6.1: the segment ended long ago but subsegments are still open. Send the segment now with
// the open ones as in_progress and every ended one complete; each entity still open is sent
// complete once, when it completes (keep_open_entities).
void send_abandoned_tree(const std::shared_ptr<EntityTree>& tree) noexcept {
  std::shared_ptr<Entity> snapshot;
  try {
    std::lock_guard<SpinLock> lock(tree->mutex);
    if (!tree->root || tree->open == 0) return;  // completed in the meantime
    snapshot = snapshot_open_tree(*tree->root);
    keep_open_entities(*tree->root, tree->orphans);
    // A subsegment tree (Lambda) can be sent while its root is open: the root is then an orphan
    // too, sent complete when it and what stays under it have ended.
    if (!tree->root->ended) tree->orphans.push_back(tree->root);
    tree->root.reset();
    tree->abandoned = true;
  } catch (...) {
    return;
  }
  if (tree->owner) tree->owner->hand_off(std::move(snapshot));
}

// Optional long-request visibility: one in_progress copy of a segment that is still open.
void send_in_progress_segment(const std::shared_ptr<EntityTree>& tree,
                              const std::shared_ptr<Entity>& segment) noexcept {
  std::shared_ptr<Entity> copy;
  try {
    std::lock_guard<SpinLock> lock(tree->mutex);
    if (segment->ended || tree->root != segment) return;
    copy = new_entity(*segment);
    copy->children.clear();  // subsegments go out with the complete document
    copy->in_progress = true;
  } catch (...) {
    return;
  }
  if (tree->owner) tree->owner->hand_off(std::move(copy));
}

const std::string kNoName;

std::string clean_name(std::string_view name, Logger* logger) {
  std::string clean = sanitize_name(name);
  if (clean.empty()) {
    if (logger) {
      logger->log_limited(LogKind::kRejectedCall, LogLevel::kWarn,
                          "entity name \"" + std::string(name) +
                              "\" is empty after removing invalid characters; using \"unnamed\"");
    }
    clean = "unnamed";
  }
  return clean;
}

}  // namespace

std::shared_ptr<Entity> RecorderCore::begin_segment(std::string_view name,
                                                    const TraceHeader& upstream,
                                                    const SamplingRequest& request) noexcept {
  try {
    const TreeAnchors& anchors = thread_anchors();
    const Settings& settings = *anchors.settings;
    if (!settings.enabled) return nullptr;
    if (settings.lambda) {
      logger_.log_limited(LogKind::kRejectedCall, LogLevel::kWarn,
                          "cannot begin a segment in AWS Lambda: Lambda records the function's segment; "
                          "begin subsegments under the invocation (xray::lambda::Invocation). Discarded.");
      return nullptr;
    }

    std::string_view chosen = !settings.tracing_name.empty() ? settings.tracing_name
                              : !name.empty()                ? name
                                                             : settings.service_name;
    // The configured names were cleaned with the snapshot.
    const std::string& precleaned = !settings.tracing_name.empty() ? settings.tracing_segment_name
                                    : name.empty()                 ? settings.service_segment_name
                                                                   : kNoName;
    auto segment_name = [&] {
      return precleaned.empty() ? clean_name(chosen, &logger_) : precleaned;
    };
    // Cleaned only when needed: by the sampler, or for a sampled segment's document.
    std::string final_name;

    const bool adopted = upstream.has_valid_root();
    bool sampled = true;
    std::string rule_name;
    switch (upstream.sampled()) {
      case TraceHeader::Sampled::kYes:
        break;
      case TraceHeader::Sampled::kNo:
        sampled = false;
        break;
      default:
        if (settings.sampler) {
          final_name = segment_name();
          SamplingRequest sampling_request = request;
          // The caller's values are used as given; only what it left unset is filled in.
          if (!sampling_request.service_name) sampling_request.service_name = final_name;
          const auto& plugin_result = anchors.plugin_result;
          if (!sampling_request.service_type && plugin_result && !plugin_result->origin.empty()) {
            sampling_request.service_type = plugin_result->origin;
          }
          SamplingDecision decision = settings.sampler->decide(sampling_request);
          sampled = decision.sampled;
          if (logger_.enabled(LogLevel::kDebug)) {
            logger_.log(LogLevel::kDebug,
                        "sampling: \"" + final_name + "\" " + (sampled ? "sampled" : "not sampled") +
                            " by " +
                            (decision.rule_name.empty() ? settings.sampler->describe()
                                                        : "centralized rule " + decision.rule_name));
          }
          rule_name = std::move(decision.rule_name);
        }
    }

    const bool real_ids = sampled || !settings.noop_ids;
    if (!real_ids) {
      // Unsampled with no-op ids (the default): nothing is recorded and no id is drawn, so the
      // tree needs no times, no parent id and no root; its segment only carries the context.
      auto tree = new_tree(
          anchors.owner, adopted ? TraceIdText(upstream.root()) : TraceIdText(kNoopTraceId), false,
          TimeAnchor{});
      tree->settings = anchors.settings;
      tree->extras = upstream.extras();
      return new_entity(std::move(tree), 0, 0, true);
    }

    // Either case is accepted in Parent (parse_id gives 0, no parent, for anything invalid).
    const EntityId parent_id = adopted ? parse_id(upstream.parent()) : 0;
    TimeAnchor anchor{clock_->system_now_us(), clock_->steady_now_ns()};
    auto tree = new_tree(
        anchors.owner,
        adopted ? TraceIdText(upstream.root()) : new_trace_id(anchor.system_us / 1'000'000),
        sampled, anchor);
    tree->settings = anchors.settings;
    tree->extras = upstream.extras();
    auto segment = new_entity(tree, new_entity_id(), parent_id, true);
    if (!sampled) return segment;  // real ids, nothing recorded (AWS_XRAY_NOOP_ID=false)
    segment->name = final_name.empty() ? segment_name() : std::move(final_name);
    segment->start_us = anchor.system_us;
    segment->service_version = settings.service_version;
    segment->sampling_rule_name = std::move(rule_name);
    tree->root = segment;
    tree->open = 1;
    if (settings.in_progress_after.count() > 0) {
      housekeeper_.schedule(
          Housekeeper::Clock::now() + settings.in_progress_after,
          [weak_tree = std::weak_ptr<EntityTree>(tree), weak_segment = std::weak_ptr<Entity>(segment)] {
            auto tree = weak_tree.lock();
            auto segment = weak_segment.lock();
            if (tree && segment) send_in_progress_segment(tree, segment);
          });
    }
    return segment;
  } catch (...) {
    return nullptr;  // out of memory: trace nothing rather than fail the request
  }
}

std::shared_ptr<Entity> RecorderCore::begin_facade(const TraceHeader& header) {
  std::shared_ptr<const Settings> settings = this->settings();
  if (!settings->enabled) return nullptr;
  if (!header.has_valid_root()) {
    context_missing(header.root().empty() ? "trace a Lambda invocation (no trace header)"
                                          : "trace a Lambda invocation (invalid trace header Root)");
    return nullptr;
  }
  try {
    const bool has_parent = TraceHeader::is_valid_parent(header.parent());
    const bool decided = header.sampled() == TraceHeader::Sampled::kYes ||
                         header.sampled() == TraceHeader::Sampled::kNo;
    const bool pass_through = !has_parent || !decided;
    const bool sampled = !pass_through && header.sampled() == TraceHeader::Sampled::kYes;
    TimeAnchor anchor{clock_->system_now_us(), clock_->steady_now_ns()};
    auto tree = new_tree(shared_from_this(), header.root(), sampled, anchor);
    tree->settings = settings;
    tree->extras = header.extras();
    tree->facade = true;
    tree->pass_through = pass_through;
    const EntityId id = has_parent ? parse_id(header.parent()) : 0;  // either case
    auto facade = new_entity(tree, id, 0, true);
    // Lambda records and sends the function's segment: ours is ended and handed off from the
    // start, so recording calls on it are refused and its subsegments form trees of their own.
    facade->ended = true;
    facade->handed_off = true;
    return facade;
  } catch (...) {
    return nullptr;  // out of memory: the invocation runs untraced
  }
}

void RecorderCore::send_open_subsegments(const std::shared_ptr<Entity>& facade) noexcept {
  if (!facade || !facade->tree->facade) return;
  std::vector<std::shared_ptr<EntityTree>> open;
  try {
    std::lock_guard<SpinLock> lock(facade->tree->mutex);
    for (const auto& weak : facade->tree->detached) {
      if (auto tree = weak.lock()) open.push_back(std::move(tree));
    }
    facade->tree->detached.clear();
  } catch (...) {
    return;  // out of memory: they are sent when they end
  }
  for (const auto& tree : open) send_abandoned_tree(tree);  // no-op for a tree already complete
}

std::shared_ptr<Entity> RecorderCore::begin_subsegment(std::string_view name,
                                                       const std::shared_ptr<Entity>& parent) noexcept {
  try {
    const std::shared_ptr<EntityTree>& parent_tree = parent->tree;
    const TreeSettings& settings = *parent_tree->settings;
    bool sampled = parent_tree->sampled;
    if (!sampled && settings.noop_ids && parent->id == 0 && !parent_tree->facade) {
      // Unsampled with no-op ids: the subsegment would be indistinguishable from its parent (same
      // trace, no id, nothing recorded, ending it does nothing), so the parent stands in for it.
      return parent;
    }
    EntityId id = sampled || !settings.noop_ids ? new_entity_id() : 0;
    if (!sampled) {
      // Carries ids and context only; never part of a document.
      return new_entity(parent_tree, id, parent->id, false);
    }
    TreeOwner* owner = parent_tree->owner.get();
    std::string clean = clean_name(name, owner ? &owner->logger() : nullptr);
    std::int64_t now = owner ? owner->now_us(parent_tree->anchor) : parent_tree->anchor.system_us;

    std::shared_ptr<Entity> entity;
    {
      std::lock_guard<SpinLock> lock(parent_tree->mutex);
      if (parent_tree->root && !parent->handed_off) {
        entity = new_entity(parent_tree, id, parent->id, false);
        entity->name = std::move(clean);
        entity->start_us = now;
        entity->approximate_bytes = kSubsegmentBaseBytes + entity->name.size();
        // Most parents get a few children: one allocation for them instead of three.
        if (parent->children.capacity() == 0) parent->children.reserve(4);
        parent->children.push_back(entity);
        ++parent_tree->open;
        ++parent_tree->subsegments;
        parent_tree->subsegment_bytes += entity->approximate_bytes;
        return entity;
      }
    }
    // The parent was already sent: this subsegment becomes its own tree, sent on its own as an
    // independent subsegment of the same trace.
    auto tree = new_tree(parent_tree->owner, parent_tree->trace_id, true,
                                             parent_tree->anchor);
    tree->settings = parent_tree->settings;
    tree->extras = parent_tree->extras;
    entity = new_entity(tree, id, parent->id, false);
    entity->name = std::move(clean);
    entity->start_us = now;
    tree->root = entity;
    tree->open = 1;
    if (parent_tree->facade) {
      std::lock_guard<SpinLock> lock(parent_tree->mutex);
      auto& detached = parent_tree->detached;
      if (detached.size() >= 64 && (detached.size() & (detached.size() - 1)) == 0) {
        // Forget the trees already sent, at doubling sizes: amortised O(1), bounded by the
        // invocation's open subsegments.
        detached.erase(std::remove_if(detached.begin(), detached.end(),
                                      [](const std::weak_ptr<EntityTree>& t) { return t.expired(); }),
                       detached.end());
      }
      detached.push_back(tree);
    }
    return entity;
  } catch (...) {
    return nullptr;
  }
}

void end_entity(const std::shared_ptr<Entity>& entity) noexcept {
  EntityTree& tree = *entity->tree;
  // Unsampled trees have no root and record nothing (not even the end): there is nothing to do, and
  // an unsampled entity may stand in for several scopes (begin_subsegment).
  if (!tree.sampled) return;
  TreeOwner* owner = tree.owner.get();
  std::shared_ptr<Entity> complete;
  std::vector<std::shared_ptr<Entity>> streamed;
  {
    std::lock_guard<SpinLock> lock(tree.mutex);
    if (entity->ended) return;
    entity->ended = true;
    entity->end_us = owner ? owner->now_us(tree.anchor) : entity->start_us;
    --tree.open;
    if (tree.abandoned) {
      // The segment went out earlier: send each orphan once it and what stays under it ended.
      auto keep = tree.orphans.begin();
      for (auto& orphan : tree.orphans) {
        std::size_t count = 0;
        if (complete_subtree(*orphan, count)) {
          streamed.push_back(std::move(orphan));
        } else {
          *keep++ = std::move(orphan);
        }
      }
      tree.orphans.erase(keep, tree.orphans.end());
    } else if (tree.open == 0 && tree.root) {
      complete = std::move(tree.root);
    } else if (entity->is_segment && owner != nullptr) {
      // Ended before some of its subsegments: give them a bounded time to finish (spec §6.1).
      owner->schedule(
          Housekeeper::Clock::now() + tree.settings->abandoned_subsegment_timeout,
          [weak_tree = std::weak_ptr<EntityTree>(entity->tree)] {
            if (auto tree = weak_tree.lock()) send_abandoned_tree(tree);
          });
    } else if (!entity->is_segment && tree.root &&
               (tree.subsegments > tree.settings->streaming_threshold ||
                tree.subsegment_bytes > tree.settings->streaming_threshold_bytes)) {
      try {
        Removed removed = stream_complete_children(*tree.root, streamed);
        tree.subsegments -= removed.subsegments;
        tree.subsegment_bytes -= std::min(removed.bytes, tree.subsegment_bytes);
      } catch (...) {
        // Out of memory while streaming: the subtrees stay embedded and go out with the segment.
      }
    }
  }
  if (owner == nullptr) return;
  if (!streamed.empty()) {  // the counter is shared by every thread: written only when it moves
    for (auto& subtree : streamed) owner->hand_off(std::move(subtree));
    owner->count_streamed(streamed.size());
  }
  if (complete) owner->hand_off(std::move(complete));
}

}  // namespace xray::detail
