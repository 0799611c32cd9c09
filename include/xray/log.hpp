// xray/log.hpp: the SDK's own diagnostics.
//
// The SDK reports what it drops, rejects or cannot send through one replaceable sink. By default
// lines go to stderr; replace the sink to route them into the service's own logging:
//
//   config.log_sink = [](xray::LogLevel level, std::string_view line) { my_log(level, line); };
//
// The sink may be called from any thread (request threads and the SDK's background threads), never
// with an SDK lock held. Exceptions it throws are swallowed.
#pragma once

#include <functional>
#include <string_view>

#include "xray/export.hpp"

namespace xray {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kSilent = 4 };

// A destination for the SDK's log lines. Must be safe to call concurrently.
using LogSink = std::function<void(LogLevel level, std::string_view message)>;

// "debug", "info", "warn", "error", "silent".
XRAY_EXPORT std::string_view to_string(LogLevel level) noexcept;

}  // namespace xray
