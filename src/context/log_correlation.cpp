#include "xray/log_correlation.hpp"

#include <cstring>

#include "context/context_stack.hpp"
#include "model/ids.hpp"

namespace xray {

// Fills a LogTraceId in place: called on every log line, so no allocation, no lock and no
// reference-count traffic (the entity is read through the thread's stack, not copied).
struct LogTraceIdAccess {
  static LogTraceId from(const detail::Entity* entity) noexcept {
    LogTraceId out;
    if (entity == nullptr || entity->id == 0 || entity->tree == nullptr) return out;
    // Unsampled with no-op ids (spec §3): nothing worth logging. A Lambda facade keeps the ids
    // Lambda gave it, but its unsampled subsegments have none, so all of the trace stays quiet.
    const detail::EntityTree& tree = *entity->tree;
    if (!tree.sampled && (tree.settings == nullptr || tree.settings->noop_ids)) return out;
    const std::string_view trace_id = tree.trace_id.view();
    if (trace_id.size() != LogTraceId::kTraceIdSize) return out;
    std::memcpy(out.text_, trace_id.data(), LogTraceId::kTraceIdSize);
    out.text_[LogTraceId::kTraceIdSize] = '@';
    char digits[LogTraceId::kEntityIdSize];
    detail::write_id(digits, entity->id);
    std::memcpy(out.text_ + LogTraceId::kTraceIdSize + 1, digits, sizeof digits);
    out.set_ = true;
    return out;
  }
};

LogTraceId current_log_trace_id() noexcept {
  const std::shared_ptr<detail::Entity>* top = detail::current_entity();
  return LogTraceIdAccess::from(top != nullptr ? top->get() : nullptr);
}

LogTraceId log_trace_id(const Context& context) noexcept {
  return LogTraceIdAccess::from(detail::ContextAccess::entity(context).get());
}

}  // namespace xray
