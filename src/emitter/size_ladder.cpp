#include "emitter/size_ladder.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include "model/ids.hpp"
#include "model/json_writer.hpp"

namespace xray::detail {
namespace {

constexpr std::string_view kSqlSuffix = "...[truncated]";

std::string truncated_marker(std::size_t bytes) {
  return "[truncated: " + std::to_string(bytes) + " bytes]";
}

}  // namespace

void SizeLadder::run(std::shared_ptr<Entity> root, const DocumentContext& context,
                     std::size_t max_datagram_bytes, const Sink& sink,
                     LadderCounters& counters) noexcept {
  max_ = max_datagram_bytes;
  pending_.clear();
  try {
    pending_.push_back(std::move(root));
  } catch (...) {
    ++counters.dropped_too_large;
    return;
  }
  while (!pending_.empty()) {
    std::shared_ptr<Entity> entity = std::move(pending_.back());
    pending_.pop_back();
    if (!entity) continue;
    try {
      fit(*entity, context, sink, counters);
    } catch (const std::exception& e) {
      ++counters.dropped_too_large;
      logger_.log_limited(LogKind::kTooLarge, LogLevel::kError,
                          std::string("cannot serialize a document: ") + e.what());
    }
    // `entity` (and whatever stayed embedded in it) is destroyed here, on the emitter thread.
  }
}

bool SizeLadder::serialize(const Entity& entity, const DocumentContext& context) {
  buffer_.assign(kDatagramHeader);
  write_document(buffer_, entity, context);
  return buffer_.size() <= max_;
}

void SizeLadder::fit(Entity& entity, const DocumentContext& context, const Sink& sink,
                     LadderCounters& counters) {
  if (serialize(entity, context) || split(entity, context, counters)) {
    sink(buffer_);
    return;
  }
  // Each step re-serializes, so later steps see what earlier ones removed; `||` stops at the first
  // that makes the document fit.
  if (truncate_metadata(entity, context) || truncate_sql(entity, context) ||
      truncate_stacks(entity, context)) {
    ++counters.truncated;
    sink(buffer_);
    return;
  }
  ++counters.dropped_too_large;
  logger_.log_limited(LogKind::kTooLarge, LogLevel::kWarn,
                      std::string("dropped ") + (entity.is_segment ? "segment" : "subsegment") +
                          " name=\"" + entity.name + "\" id=" + format_id(entity.id) +
                          " trace_id=" + std::string(context.trace_id) + ": " +
                          std::to_string(buffer_.size()) + " bytes exceeds max datagram " +
                          std::to_string(max_) + " bytes");
}

// buffer_ holds the oversize datagram on entry and the final one on return.
bool SizeLadder::split(Entity& entity, const DocumentContext& context, LadderCounters& counters) {
  if (entity.children.empty()) return false;
  // Weigh each child subtree once, as embedded (plus its separating comma), instead of
  // re-serializing after every detach: O(n) rather than O(n^2) for wide trees.
  std::vector<std::pair<std::size_t, std::size_t>> weights;  // (bytes, index)
  weights.reserve(entity.children.size());
  for (std::size_t i = 0; i < entity.children.size(); ++i) {
    if (!entity.children[i]) continue;
    scratch_.clear();
    write_embedded(scratch_, *entity.children[i]);
    weights.emplace_back(scratch_.size() + 1, i);
  }
  std::sort(weights.begin(), weights.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  // Removing an element removes at least its bytes and a comma, so the estimate never undershoots.
  std::size_t estimate = buffer_.size();
  std::vector<bool> detach(entity.children.size(), false);
  for (const auto& [bytes, index] : weights) {
    if (estimate <= max_) break;
    detach[index] = true;
    estimate -= std::min(estimate, bytes);
  }
  std::vector<std::shared_ptr<Entity>> kept;
  kept.reserve(entity.children.size());
  for (std::size_t i = 0; i < entity.children.size(); ++i) {
    if (!entity.children[i]) continue;
    if (detach[i]) {
      pending_.push_back(std::move(entity.children[i]));
      ++counters.streamed;
    } else {
      kept.push_back(std::move(entity.children[i]));
    }
  }
  entity.children = std::move(kept);
  return serialize(entity, context);
}

bool SizeLadder::truncate_metadata(Entity& entity, const DocumentContext& context) {
  std::vector<std::pair<std::size_t, nlohmann::json*>> values;
  for (MetadataNamespace& ns : entity.metadata) {
    for (auto& entry : ns.entries) {
      scratch_.clear();
      JsonWriter writer(scratch_);
      writer.json(entry.second);
      values.emplace_back(scratch_.size(), &entry.second);
    }
  }
  std::sort(values.begin(), values.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::size_t estimate = buffer_.size();
  bool changed = false;
  for (const auto& [bytes, value] : values) {
    if (estimate <= max_) break;
    std::string marker = truncated_marker(bytes);
    std::size_t marker_bytes = marker.size() + 2;  // quotes
    if (bytes <= marker_bytes) break;              // sorted: nothing smaller helps either
    *value = std::move(marker);
    estimate -= bytes - marker_bytes;
    changed = true;
  }
  return changed && serialize(entity, context);
}

bool SizeLadder::truncate_sql(Entity& entity, const DocumentContext& context) {
  if (!entity.sql || entity.is_segment) return false;  // segments carry no sql (serializer)
  std::string& query = entity.sql->sanitized_query;
  if (query.size() <= kSqlSuffix.size()) return false;
  // Escaping only grows text, so removing k raw bytes removes at least k serialized bytes.
  std::size_t excess = buffer_.size() - max_;
  std::size_t cut = excess + kSqlSuffix.size();
  std::size_t keep = query.size() > cut ? query.size() - cut : 0;
  while (keep > 0 && (static_cast<unsigned char>(query[keep]) & 0xC0) == 0x80) --keep;
  query.resize(keep);
  query.append(kSqlSuffix);
  return serialize(entity, context);
}

bool SizeLadder::truncate_stacks(Entity& entity, const DocumentContext& context) {
  bool any = false;
  for (const ExceptionRecord& x : entity.exceptions) any = any || !x.stack.empty();
  if (!any) return false;
  for (;;) {
    // The exception with the most frames loses frames from its end, about `excess` bytes' worth.
    auto largest = std::max_element(
        entity.exceptions.begin(), entity.exceptions.end(),
        [](const ExceptionRecord& a, const ExceptionRecord& b) { return a.stack.size() < b.stack.size(); });
    if (largest == entity.exceptions.end() || largest->stack.empty()) return false;
    std::size_t excess = buffer_.size() - max_;
    std::size_t removed = 0;
    while (!largest->stack.empty() && removed < excess) {
      const StackFrame& frame = largest->stack.back();
      removed += frame.path.size() + frame.label.size() + 32;  // keys, braces, line number
      largest->stack.pop_back();
      ++largest->truncated;
    }
    if (serialize(entity, context)) return true;
  }
}

}  // namespace xray::detail
