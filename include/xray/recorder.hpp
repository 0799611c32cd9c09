// xray/recorder.hpp: the entry point. Configure once, then begin segments and subsegments.
//
//   xray::Config config;
//   config.service_name = "orders";
//   xray::Recorder& recorder = xray::Recorder::global();
//   recorder.configure(config);
//   {
//     auto segment = recorder.begin_segment("orders", xray::TraceHeader::parse(header_value));
//     auto call = recorder.begin_subsegment("dynamodb");
//   }
//   recorder.flush(std::chrono::seconds(2));
//
// Ending a segment never touches the network: the finished document is queued and a background
// thread serializes and sends it to the daemon over UDP.
//
// Thread safety: thread-safe. Every member may be called concurrently from any thread, including
// `configure`, which affects segments begun afterwards.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "xray/config.hpp"
#include "xray/context.hpp"
#include "xray/export.hpp"
#include "xray/sampling.hpp"
#include "xray/segment_scope.hpp"
#include "xray/stats.hpp"
#include "xray/subsegment_scope.hpp"
#include "xray/trace_header.hpp"

namespace xray {
namespace detail {
class RecorderCore;
struct RecorderAccess;  // test and integration hooks into the core
}


class XRAY_EXPORT Recorder {
 public:
  // A recorder with the default configuration and the environment's overrides. It starts no thread
  // until the first sampled document is queued.
  Recorder() noexcept;
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // The process-wide recorder, destroyed (after sending what is queued) at normal exit.
  static Recorder& global() noexcept;

  // Applies `config` (environment variables still win). Invalid values are returned as errors and
  // keep their previous value; everything else is applied. Returns at once: plugin detection runs in
  // the background.
  ConfigResult configure(const Config& config) noexcept;

  // Begins a segment and makes it current on this thread. `upstream` is the incoming trace header:
  // a valid Root is adopted with its Parent; Sampled=1/0 is obeyed, otherwise the sampler decides
  // with `request`. AWS_XRAY_TRACING_NAME, when set, replaces `name`.
  [[nodiscard]] SegmentScope begin_segment(std::string_view name,
                                           const TraceHeader& upstream = {},
                                           const SamplingRequest& request = {}) noexcept;

  // As begin_segment, without making the segment current on any thread: for asynchronous servers,
  // gRPC callbacks and Lambda invocations, where the request is handled on other threads (or
  // across handlers) than the one that began it. Record through the scope, or attach it where work
  // happens: `xray::ContextScope attach(segment.context());`.
  [[nodiscard]] SegmentScope start_segment(std::string_view name, const TraceHeader& upstream = {},
                                           const SamplingRequest& request = {}) noexcept;

  // Begins a subsegment under this thread's current entity and makes it current. With no current
  // entity, applies the context-missing strategy: throws ContextMissingError under kRuntimeError,
  // otherwise returns an inert scope.
  [[nodiscard]] SubsegmentScope begin_subsegment(std::string_view name);
  // Begins a subsegment under `parent` (and makes it current on this thread).
  [[nodiscard]] SubsegmentScope begin_subsegment(std::string_view name, const Context& parent);
  // As begin_subsegment(name, parent), without making it current on any thread: for a call that
  // may complete on another thread or handler (asynchronous clients). With an empty `parent`,
  // applies the context-missing strategy.
  [[nodiscard]] SubsegmentScope start_subsegment(std::string_view name, const Context& parent);

  // Waits until every document queued before the call has been sent, or `timeout` passed.
  // Returns true when everything was sent in time.
  bool flush(std::chrono::milliseconds timeout) noexcept;

  Stats stats() const noexcept;
  // False when disabled by configuration or environment.
  bool enabled() const noexcept;

 private:
  friend struct detail::RecorderAccess;
  std::shared_ptr<detail::RecorderCore> core_;
};

}  // namespace xray
