// Internal: the SDK's own log, with per-kind rate limiting.
//
// Repetitive conditions (drops, send errors, missing context) log at most one line per kind every
// 10 s, carrying the number of lines suppressed since the last one. The sink is called without any
// SDK lock held; exceptions it throws are swallowed.
//
// Thread safety: thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "xray/log.hpp"

namespace xray::detail {

// Kinds of repetitive condition, each rate-limited on its own.
enum class LogKind : std::size_t {
  kContextMissing,
  kQueueFull,
  kSendError,
  kTooLarge,
  kBadAnnotation,
  kBadMetadata,
  kRejectedCall,
  kSamplingPoll,
  kCount
};

class Logger {
 public:
  Logger();

  void set_level(LogLevel level) noexcept { level_.store(level, std::memory_order_relaxed); }
  LogLevel level() const noexcept { return level_.load(std::memory_order_relaxed); }
  // Null restores the stderr sink.
  void set_sink(LogSink sink);

  bool enabled(LogLevel level) const noexcept { return level >= this->level() && level != LogLevel::kSilent; }
  void log(LogLevel level, std::string_view message) noexcept;
  // At most one line per kind per interval; the next line reports how many were suppressed.
  void log_limited(LogKind kind, LogLevel level, std::string_view message) noexcept;

  // fork(2) safety (recorder/fork_safety.cpp): held across fork so the child never inherits the
  // sink lock taken by a thread that does not exist there.
  void lock_for_fork() noexcept { sink_mutex_.lock(); }
  void unlock_after_fork() noexcept { sink_mutex_.unlock(); }

  void set_rate_limit_interval(std::chrono::nanoseconds interval) noexcept {
    interval_ns_.store(interval.count(), std::memory_order_relaxed);
  }

 private:
  struct Limiter {
    // steady_clock time of the last delivered line; kNever before the first. Compared with the
    // interval current at each call, so a changed interval takes effect immediately.
    static constexpr std::int64_t kNever = INT64_MIN;
    std::atomic<std::int64_t> last_logged_ns{kNever};
    std::atomic<std::uint64_t> suppressed{0};
  };

  std::atomic<LogLevel> level_{LogLevel::kWarn};
  std::atomic<std::int64_t> interval_ns_{10'000'000'000};
  std::mutex sink_mutex_;
  std::shared_ptr<const LogSink> sink_;  // guarded by sink_mutex_; copied out before calling
  std::array<Limiter, static_cast<std::size_t>(LogKind::kCount)> limiters_;
};

}  // namespace xray::detail
