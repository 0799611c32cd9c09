#include "recorder/environment.hpp"

#include "base/ascii.hpp"

#include <mutex>
#include <set>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace xray::detail {
std::optional<ContextMissing> parse_context_missing(std::string_view text) noexcept {
  text = trim_space(text);
  if (iequals(text, "LOG_ERROR")) return ContextMissing::kLogError;
  if (iequals(text, "IGNORE_ERROR")) return ContextMissing::kIgnoreError;
  if (iequals(text, "RUNTIME_ERROR")) return ContextMissing::kRuntimeError;
  return std::nullopt;
}

std::optional<LogLevel> parse_log_level(std::string_view text) noexcept {
  text = trim_space(text);
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError,
                         LogLevel::kSilent}) {
    if (iequals(text, to_string(level))) return level;
  }
  return std::nullopt;
}

std::optional<bool> parse_bool(std::string_view text) noexcept {
  text = trim_space(text);
  for (std::string_view yes : {"y", "yes", "t", "true", "on", "1"}) {
    if (iequals(text, yes)) return true;
  }
  for (std::string_view no : {"n", "no", "f", "false", "off", "0"}) {
    if (iequals(text, no)) return false;
  }
  return std::nullopt;
}

namespace {

bool first_report_in_process(const std::string& line) {
  static auto* mutex = new std::mutex();  // immortal: recorders may configure during exit
  static auto* reported = new std::set<std::string>();
  std::lock_guard<std::mutex> lock(*mutex);
  return reported->insert(line).second;
}

}  // namespace

Environment read_environment(const std::function<void(const std::string&)>& warn,
                             const GetEnv& getenv) {
  auto read = [&](const char* name) -> std::optional<std::string_view> {
    const char* value = read_env(getenv, name);
    if (value == nullptr || trim_space(value).empty()) return std::nullopt;
    return trim_space(value);
  };
  auto invalid = [&](const char* name, std::string_view value, std::string_view why) {
    std::string line =
        std::string("ignoring ") + name + "=\"" + std::string(value) + "\": " + std::string(why);
    // The process environment is read by every recorder's construction and every configure():
    // each invalid value is reported once per process. An injected environment always reports.
    if (!getenv && !first_report_in_process(line)) return;
    warn(line);
  };

  Environment env;
  if (auto value = read("AWS_XRAY_TRACING_NAME")) env.tracing_name = std::string(*value);

  if (auto value = read("AWS_XRAY_DAEMON_ADDRESS")) {
    std::string error;
    env.daemon_address = parse_daemon_address(*value, &error);
    if (!env.daemon_address) invalid("AWS_XRAY_DAEMON_ADDRESS", *value, error);
  }

  if (auto value = read("AWS_XRAY_CONTEXT_MISSING")) {
    env.context_missing = parse_context_missing(*value);
    if (!env.context_missing) {
      invalid("AWS_XRAY_CONTEXT_MISSING", *value,
              "expected LOG_ERROR, IGNORE_ERROR or RUNTIME_ERROR");
    }
  }

  if (auto value = read("AWS_XRAY_SDK_ENABLED")) {
    env.sdk_enabled = parse_bool(*value);
    if (!env.sdk_enabled) invalid("AWS_XRAY_SDK_ENABLED", *value, "expected true or false");
  }
  if (auto value = read("AWS_XRAY_SDK_DISABLED"); value && iequals(*value, "true")) {
    env.sdk_enabled = false;  // Go's switch: only "true" means anything
  }

  if (auto value = read("AWS_XRAY_NOOP_ID")) env.noop_ids = !iequals(*value, "false");

  if (auto value = read("AWS_XRAY_LOG_LEVEL")) {
    env.log_level = parse_log_level(*value);
    if (!env.log_level) {
      invalid("AWS_XRAY_LOG_LEVEL", *value, "expected debug, info, warn, error or silent");
    }
  }

  if (auto value = read("AWS_XRAY_COLLECT_SQL_QUERIES")) {
    env.collect_sql_queries = iequals(*value, "true");
  }
  env.in_lambda = read("LAMBDA_TASK_ROOT").has_value();
  return env;
}

}  // namespace xray::detail
