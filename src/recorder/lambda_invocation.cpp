// xray::lambda::Invocation: one Lambda invocation under its facade segment (spec §11).
#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>

#include "context/context_stack.hpp"
#include "propagation/outbound_header.hpp"
#include "recorder/recorder_core.hpp"
#include "xray/lambda.hpp"

namespace xray::lambda {

Invocation::Invocation(std::string_view trace_header, InvocationOptions options)
    : options_(std::move(options)),
      recorder_(options_.recorder != nullptr ? options_.recorder : &Recorder::global()) {
  detail::RecorderCore& core = detail::RecorderAccess::core(*recorder_);
  // aws-lambda-cpp passes the header per invocation; other runtimes may set the variable instead.
  if (trace_header.empty()) {
    const auto settings = core.settings();
    const char* from_environment =
        detail::read_env(settings ? settings->getenv : detail::GetEnv(), "_X_AMZN_TRACE_ID");
    if (from_environment != nullptr) trace_header = from_environment;
  }
  auto facade = core.begin_facade(TraceHeader::parse(trace_header));  // may throw (kRuntimeError)
  if (!facade) return;
  context_ = detail::ContextAccess::make(std::move(facade));
  attached_.emplace(context_);
}

Invocation::~Invocation() { end(); }

bool Invocation::sampled() const noexcept {
  const auto& facade = detail::ContextAccess::entity(context_);
  return facade != nullptr && facade->tree->sampled;
}

TraceHeader Invocation::outbound_header() const noexcept {
  const auto& facade = detail::ContextAccess::entity(context_);
  return facade != nullptr ? detail::outbound_header(*facade) : TraceHeader();
}

bool Invocation::end() noexcept {
  if (ended_) return true;
  ended_ = true;
  attached_.reset();  // this thread's context is what it was before the invocation
  const auto& facade = detail::ContextAccess::entity(context_);
  if (facade == nullptr || !facade->tree->sampled) return true;
  detail::RecorderCore::send_open_subsegments(facade);
  // Everything of the invocation leaves before the response does: the environment freezes then.
  auto budget = std::chrono::milliseconds(1000);
  if (options_.deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        *options_.deadline - std::chrono::system_clock::now());
    budget = std::clamp(left, std::chrono::milliseconds(0), budget);
  }
  const bool flushed = recorder_->flush(budget);
  if (!flushed) {
    detail::RecorderAccess::core(*recorder_)
        .logger()
        .log_limited(detail::LogKind::kSendError, LogLevel::kWarn,
                     "Lambda invocation " + options_.request_id +
                         ": not everything was sent within " + std::to_string(budget.count()) +
                         " ms before the response");
  }
  return flushed;
}

}  // namespace xray::lambda
