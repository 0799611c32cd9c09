// xray/spdlog.hpp: the current trace in spdlog lines (AWSXRay::spdlog, built when spdlog is found).
//
//   auto logger = spdlog::stdout_logger_mt("orders");
//   logger->set_formatter(xray::make_spdlog_formatter("[%l] %k %v"));
//   logger->info("order placed");
//   // [info] 1-5759e988-bd862e3fe1be46a994272793@53995c3f42cd8ad8 order placed
//
// `%k` (kSpdlogTraceIdFlag, a letter spdlog does not use) prints xray::current_log_trace_id()
// (xray/log_correlation.hpp): `trace_id@entity_id`, or nothing when no sampled entity is current.
// To add the flag to a formatter of your own: `formatter->add_flag<xray::SpdlogTraceIdFlag>('k')`.
//
// The flag reads the context of the thread that formats the line, which for a synchronous logger
// is the thread that logs. An asynchronous logger (spdlog/async.h) formats on its worker thread,
// where no entity is current: put the id in the message instead, where it is read on the logging
// thread: `logger->info("{} order placed", xray::current_log_trace_id())` (a fmt formatter for
// LogTraceId is below).
//
// Thread safety: SpdlogTraceIdFlag is stateless; spdlog clones it per formatter.
#pragma once

#include <spdlog/fmt/fmt.h>
#include <spdlog/pattern_formatter.h>

#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "xray/export.hpp"
#include "xray/log_correlation.hpp"

namespace xray {

inline constexpr char kSpdlogTraceIdFlag = 'k';

class XRAY_EXPORT SpdlogTraceIdFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& message, const std::tm& time,
              spdlog::memory_buf_t& out) override;
  std::unique_ptr<spdlog::custom_flag_formatter> clone() const override;
};

// A pattern formatter for `pattern` (spdlog's syntax) in which `%<flag>` prints the trace id.
XRAY_EXPORT std::unique_ptr<spdlog::pattern_formatter> make_spdlog_formatter(
    std::string pattern, char flag = kSpdlogTraceIdFlag);

}  // namespace xray

// `{}` of a LogTraceId in fmt/spdlog format strings: its formatted value.
template <>
struct fmt::formatter<xray::LogTraceId> : fmt::formatter<fmt::string_view> {
  template <typename FormatContext>
  auto format(const xray::LogTraceId& id, FormatContext& context) const -> decltype(context.out()) {
    const std::string_view text = id.formatted();
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(text.data(), text.size()),
                                                    context);
  }
};
