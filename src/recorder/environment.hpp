// Internal: the SDK's environment variables (spec §5.2), read when the recorder is configured.
//
// Each variable is either absent/blank (nullopt), valid (a value), or invalid: then a warning naming
// the variable and its value goes to the log and the variable counts as unset.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/environment.hpp"
#include "xray/daemon_address.hpp"
#include "log/logger.hpp"
#include "xray/config.hpp"

namespace xray::detail {

struct Environment {
  std::optional<std::string> tracing_name;
  std::optional<DaemonAddress> daemon_address;
  std::optional<ContextMissing> context_missing;
  std::optional<bool> sdk_enabled;  // from AWS_XRAY_SDK_ENABLED and AWS_XRAY_SDK_DISABLED
  std::optional<bool> noop_ids;
  std::optional<LogLevel> log_level;
  std::optional<bool> collect_sql_queries;
  bool in_lambda = false;  // LAMBDA_TASK_ROOT is set: no centralized sampling, no plugins
};

// Reads the variables through `getenv` (std::getenv by default), logging invalid values to `warn`.
Environment read_environment(const std::function<void(const std::string&)>& warn,
                             const GetEnv& getenv = nullptr);

std::optional<ContextMissing> parse_context_missing(std::string_view text) noexcept;
std::optional<LogLevel> parse_log_level(std::string_view text) noexcept;
// Python's truth values: y yes t true on 1 / n no f false off 0, case-insensitive.
std::optional<bool> parse_bool(std::string_view text) noexcept;

}  // namespace xray::detail
