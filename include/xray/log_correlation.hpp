// xray/log_correlation.hpp: the current trace in log lines, so that a log search finds the trace
// and the X-Ray console finds the logs.
//
//   std::clog << xray::current_log_trace_id() << " order placed\n";
//   // 1-5759e988-bd862e3fe1be46a994272793@53995c3f42cd8ad8 order placed
//
//   auto ids = xray::current_log_trace_id();   // or the pieces, e.g. for JSON logs
//   if (!ids.empty()) log.add("trace_id", ids.trace_id()).add("entity_id", ids.entity_id());
//
// `trace_id@entity_id` is the form the Java SDK's log integrations print (its MDC key is
// `AWS-XRAY-TRACE-ID`). The value is empty when no entity is current on the thread, and for an
// unsampled trace unless AWS_XRAY_NOOP_ID=false gave it real ids (spec §3): the all-zero no-op
// ids would only mislead a search. Reading it costs a few nanoseconds and never allocates or
// takes a lock (bench/log_correlation_bench.cpp); spdlog users get it as a pattern flag
// (xray/spdlog.hpp).
//
// Thread safety: LogTraceId is a value type; the functions read only the calling thread's context.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

#include "xray/context.hpp"
#include "xray/export.hpp"

namespace xray {

class XRAY_EXPORT LogTraceId {
 public:
  static constexpr std::size_t kTraceIdSize = 35;  // 1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx
  static constexpr std::size_t kEntityIdSize = 16;
  static constexpr std::size_t kFormattedSize = kTraceIdSize + 1 + kEntityIdSize;

  LogTraceId() noexcept = default;  // empty

  bool empty() const noexcept { return !set_; }
  // `1-…@<entity id>`, or "" when empty. Views into this object.
  std::string_view formatted() const noexcept {
    return set_ ? std::string_view(text_, kFormattedSize) : std::string_view();
  }
  std::string_view trace_id() const noexcept {
    return set_ ? std::string_view(text_, kTraceIdSize) : std::string_view();
  }
  std::string_view entity_id() const noexcept {
    return set_ ? std::string_view(text_ + kTraceIdSize + 1, kEntityIdSize) : std::string_view();
  }
  std::string to_string() const { return std::string(formatted()); }

 private:
  friend struct LogTraceIdAccess;
  char text_[kFormattedSize] = {};
  bool set_ = false;
};

inline std::ostream& operator<<(std::ostream& out, const LogTraceId& id) {
  return out << id.formatted();
}

// The ids of the entity current on this thread (xray/context.hpp).
XRAY_EXPORT LogTraceId current_log_trace_id() noexcept;

// The ids of `context`'s entity, e.g. in a handler that carries a Context instead of attaching it.
XRAY_EXPORT LogTraceId log_trace_id(const Context& context) noexcept;

}  // namespace xray
