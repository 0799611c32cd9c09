#include "xray/recorder.hpp"

#include "context/context_stack.hpp"
#include "recorder/recorder_core.hpp"

namespace xray {
namespace {

// Sends what the global recorder has queued when the process exits normally (return from main or
// exit()). The recorder object itself is never destroyed, so instrumentation running during static
// destruction elsewhere still finds a valid (shut down) recorder.
struct GlobalShutdown {
  Recorder* recorder;
  ~GlobalShutdown() {
    auto& core = detail::RecorderAccess::core(*recorder);
    core.shutdown(core.shutdown_timeout());
  }
};

}  // namespace

Recorder::Recorder() noexcept : core_(std::make_shared<detail::RecorderCore>()) {}

Recorder::~Recorder() { core_->shutdown(core_->shutdown_timeout()); }

Recorder& Recorder::global() noexcept {
  static Recorder* const recorder = new Recorder();  // NOLINT: intentionally immortal, see above
  static GlobalShutdown shutdown{recorder};
  return *recorder;
}

ConfigResult Recorder::configure(const Config& config) noexcept { return core_->configure(config); }

SegmentScope Recorder::begin_segment(std::string_view name, const TraceHeader& upstream,
                                     const SamplingRequest& request) noexcept {
  auto segment = core_->begin_segment(name, upstream, request);
  if (!segment) return SegmentScope();
  detail::push_current(segment);
  return SegmentScope(std::move(segment));
}

SegmentScope Recorder::start_segment(std::string_view name, const TraceHeader& upstream,
                                     const SamplingRequest& request) noexcept {
  auto segment = core_->begin_segment(name, upstream, request);
  if (!segment) return SegmentScope();
  return SegmentScope(std::move(segment));  // not pushed on this thread's context stack
}

SubsegmentScope Recorder::begin_subsegment(std::string_view name) {
  const auto* current = detail::current_entity();
  if (current == nullptr) {
    if (!core_->settings()->enabled) return SubsegmentScope();
    core_->context_missing("begin subsegment \"" + std::string(name) + "\"");
    return SubsegmentScope();
  }
  // Straight from the stack's entry: no Context copy (two reference-count writes) per subsegment.
  auto subsegment = detail::RecorderCore::begin_subsegment(name, *current);
  if (!subsegment) return SubsegmentScope();
  detail::push_current(subsegment);
  return SubsegmentScope(std::move(subsegment));
}

SubsegmentScope Recorder::begin_subsegment(std::string_view name, const Context& parent) {
  SubsegmentScope subsegment = start_subsegment(name, parent);
  if (subsegment.active()) detail::push_current(subsegment.entity_);
  return subsegment;
}

SubsegmentScope Recorder::start_subsegment(std::string_view name, const Context& parent) {
  const auto& parent_entity = detail::ContextAccess::entity(parent);
  if (!parent_entity) {
    if (!core_->settings()->enabled) return SubsegmentScope();
    core_->context_missing("begin subsegment \"" + std::string(name) + "\"");
    return SubsegmentScope();
  }
  auto subsegment = detail::RecorderCore::begin_subsegment(name, parent_entity);
  if (!subsegment) return SubsegmentScope();
  return SubsegmentScope(std::move(subsegment));  // not pushed on this thread's context stack
}

bool Recorder::flush(std::chrono::milliseconds timeout) noexcept {
  return core_->emitter().flush(timeout);
}

Stats Recorder::stats() const noexcept { return core_->stats(); }

bool Recorder::enabled() const noexcept { return core_->settings()->enabled; }

}  // namespace xray
