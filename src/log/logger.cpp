#include "log/logger.hpp"

#include <cstdio>
#include <string>

namespace xray {

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kSilent:
      return "silent";
  }
  return "unknown";
}

namespace detail {
namespace {

void write_stderr(LogLevel level, std::string_view message) {
  std::string line = "[xray] ";
  line += to_string(level);
  line += ": ";
  line += message;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Logger::Logger() : sink_(std::make_shared<const LogSink>(&write_stderr)) {}

void Logger::set_sink(LogSink sink) {
  auto next = std::make_shared<const LogSink>(sink ? std::move(sink) : LogSink(&write_stderr));
  std::lock_guard<std::mutex> lock(sink_mutex_);
  sink_ = std::move(next);
}

void Logger::log(LogLevel level, std::string_view message) noexcept {
  if (!enabled(level)) return;
  std::shared_ptr<const LogSink> sink;
  {
    std::lock_guard<std::mutex> lock(sink_mutex_);
    sink = sink_;
  }
  try {
    (*sink)(level, message);
  } catch (...) {
    // A failing log sink must never take the request down.
  }
}

void Logger::log_limited(LogKind kind, LogLevel level, std::string_view message) noexcept {
  if (!enabled(level)) return;
  Limiter& limiter = limiters_[static_cast<std::size_t>(kind)];
  std::int64_t now = steady_ns();
  std::int64_t last = limiter.last_logged_ns.load(std::memory_order_relaxed);
  bool due = last == Limiter::kNever ||
             now - last >= interval_ns_.load(std::memory_order_relaxed);
  if (!due ||
      !limiter.last_logged_ns.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    limiter.suppressed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::uint64_t suppressed = limiter.suppressed.exchange(0, std::memory_order_relaxed);
  if (suppressed == 0) {
    log(level, message);
    return;
  }
  try {
    std::string line(message);
    line += " (";
    line += std::to_string(suppressed);
    line += " similar messages suppressed)";
    log(level, line);
  } catch (...) {
  }
}

}  // namespace detail
}  // namespace xray
