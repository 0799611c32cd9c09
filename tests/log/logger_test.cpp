#include "log/logger.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace xray::detail {
namespace {

using std::chrono::hours;
using std::chrono::nanoseconds;

// Keeps every (level, message) delivered to it; thread-safe.
class Captured {
 public:
  LogSink sink() {
    return [this](LogLevel level, std::string_view message) {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.emplace_back(level, std::string(message));
    };
  }
  std::vector<std::pair<LogLevel, std::string>> lines() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

TEST(Logger, DefaultLevelIsWarn) {
  Logger logger;
  EXPECT_EQ(logger.level(), LogLevel::kWarn);
  EXPECT_FALSE(logger.enabled(LogLevel::kDebug));
  EXPECT_FALSE(logger.enabled(LogLevel::kInfo));
  EXPECT_TRUE(logger.enabled(LogLevel::kWarn));
  EXPECT_TRUE(logger.enabled(LogLevel::kError));
}

TEST(Logger, CustomSinkReceivesLevelAndMessage) {
  Logger logger;
  Captured captured;
  logger.set_sink(captured.sink());
  logger.log(LogLevel::kWarn, "first");
  logger.log(LogLevel::kError, "second");
  auto lines = captured.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], std::make_pair(LogLevel::kWarn, std::string("first")));
  EXPECT_EQ(lines[1], std::make_pair(LogLevel::kError, std::string("second")));
}

TEST(Logger, MessagesBelowThresholdAreNotDelivered) {
  Logger logger;
  Captured captured;
  logger.set_sink(captured.sink());
  logger.set_level(LogLevel::kError);
  logger.log(LogLevel::kDebug, "debug");
  logger.log(LogLevel::kInfo, "info");
  logger.log(LogLevel::kWarn, "warn");
  logger.log(LogLevel::kError, "error");
  auto lines = captured.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].first, LogLevel::kError);
  EXPECT_EQ(lines[0].second, "error");
}

TEST(Logger, DebugLevelDeliversEverything) {
  Logger logger;
  Captured captured;
  logger.set_sink(captured.sink());
  logger.set_level(LogLevel::kDebug);
  EXPECT_EQ(logger.level(), LogLevel::kDebug);
  logger.log(LogLevel::kDebug, "d");
  logger.log(LogLevel::kInfo, "i");
  logger.log(LogLevel::kWarn, "w");
  logger.log(LogLevel::kError, "e");
  EXPECT_EQ(captured.lines().size(), 4u);
}

TEST(Logger, SilentDeliversNothing) {
  Logger logger;
  Captured captured;
  logger.set_sink(captured.sink());
  logger.set_level(LogLevel::kSilent);
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError,
                         LogLevel::kSilent}) {
    EXPECT_FALSE(logger.enabled(level));
    logger.log(level, "x");
    logger.log_limited(LogKind::kSendError, level, "y");
  }
  EXPECT_TRUE(captured.lines().empty());
}

TEST(Logger, MessageAtSilentLevelIsNeverDelivered) {
  Logger logger;
  Captured captured;
  logger.set_sink(captured.sink());
  logger.set_level(LogLevel::kDebug);
  logger.log(LogLevel::kSilent, "never");
  EXPECT_TRUE(captured.lines().empty());
}

TEST(Logger, ThrowingSinkIsSwallowed) {
  Logger logger;
  int calls = 0;
  logger.set_sink([&calls](LogLevel, std::string_view) {
    ++calls;
    throw std::runtime_error("sink failed");
  });
  EXPECT_NO_THROW(logger.log(LogLevel::kError, "boom"));
  EXPECT_NO_THROW(logger.log_limited(LogKind::kQueueFull, LogLevel::kError, "boom"));
  EXPECT_EQ(calls, 2);
}

TEST(Logger, SinkThrowingNonStdExceptionIsSwallowed) {
  Logger logger;
  logger.set_sink([](LogLevel, std::string_view) { throw 42; });
  EXPECT_NO_THROW(logger.log(LogLevel::kError, "boom"));
}

TEST(Logger, ReplacingTheSinkTakesEffect) {
  Logger logger;
  Captured first;
  Captured second;
  logger.set_sink(first.sink());
  logger.log(LogLevel::kError, "a");
  logger.set_sink(second.sink());
  logger.log(LogLevel::kError, "b");
  ASSERT_EQ(first.lines().size(), 1u);
  ASSERT_EQ(second.lines().size(), 1u);
  EXPECT_EQ(second.lines()[0].second, "b");
}

TEST(Logger, NullSinkRestoresStderr) {
  Logger logger;
  Captured captured;
  logger.set_sink(captured.sink());
  logger.set_sink(nullptr);
  testing::internal::CaptureStderr();
  logger.log(LogLevel::kError, "to stderr");
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(captured.lines().empty());
  EXPECT_NE(err.find("to stderr"), std::string::npos) << err;
}

// --- rate limiting -------------------------------------------------------------------------------

TEST(LoggerRateLimit, SecondAndThirdOfOneKindSuppressedOtherKindStillLogs) {
  Logger logger;
  Captured captured;
  logger.set_sink(captured.sink());
  logger.set_rate_limit_interval(hours(1));
  logger.log_limited(LogKind::kSendError, LogLevel::kWarn, "send failed 1");
  logger.log_limited(LogKind::kSendError, LogLevel::kWarn, "send failed 2");
  logger.log_limited(LogKind::kSendError, LogLevel::kWarn, "send failed 3");
  logger.log_limited(LogKind::kQueueFull, LogLevel::kWarn, "queue full");
  auto lines = captured.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].second, "send failed 1");
  EXPECT_EQ(lines[1].second, "queue full");
}

TEST(LoggerRateLimit, DefaultIntervalSuppressesRepeats) {
  Logger logger;  // 10 s by default; consecutive calls are well within it
  Captured captured;
  logger.set_sink(captured.sink());
  logger.log_limited(LogKind::kTooLarge, LogLevel::kWarn, "too large");
  logger.log_limited(LogKind::kTooLarge, LogLevel::kWarn, "too large");
  EXPECT_EQ(captured.lines().size(), 1u);
}

TEST(LoggerRateLimit, PlainLogIsNotRateLimited) {
  Logger logger;
  Captured captured;
  logger.set_sink(captured.sink());
  logger.set_rate_limit_interval(hours(1));
  for (int i = 0; i < 5; ++i) logger.log(LogLevel::kWarn, "plain");
  EXPECT_EQ(captured.lines().size(), 5u);
}

TEST(LoggerRateLimit, EveryKindIsLimitedIndependently) {
  Logger logger;
  Captured captured;
  logger.set_sink(captured.sink());
  logger.set_rate_limit_interval(hours(1));
  constexpr auto kKinds = static_cast<std::size_t>(LogKind::kCount);
  for (int round = 0; round < 3; ++round) {
    for (std::size_t kind = 0; kind < kKinds; ++kind) {
      logger.log_limited(static_cast<LogKind>(kind), LogLevel::kError, std::to_string(kind));
    }
  }
  auto lines = captured.lines();
  ASSERT_EQ(lines.size(), kKinds);
  for (std::size_t kind = 0; kind < kKinds; ++kind) EXPECT_EQ(lines[kind].second, std::to_string(kind));
}

TEST(LoggerRateLimit, MessagesBelowThresholdAreNotCountedAsSuppressed) {
  Logger logger;
  Captured captured;
  logger.set_sink(captured.sink());
  logger.set_rate_limit_interval(nanoseconds(0));
  logger.log_limited(LogKind::kSendError, LogLevel::kDebug, "filtered");
  logger.log_limited(LogKind::kSendError, LogLevel::kDebug, "filtered");
  logger.log_limited(LogKind::kSendError, LogLevel::kWarn, "shown");
  auto lines = captured.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].second, "shown");
}

TEST(LoggerRateLimit, ZeroIntervalLogsEveryCall) {
  Logger logger;
  Captured captured;
  logger.set_sink(captured.sink());
  logger.set_rate_limit_interval(nanoseconds(0));
  for (int i = 0; i < 10; ++i) {
    logger.log_limited(LogKind::kContextMissing, LogLevel::kError, "missing " + std::to_string(i));
  }
  auto lines = captured.lines();
  ASSERT_EQ(lines.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(lines[i].second, "missing " + std::to_string(i));
}

TEST(LoggerRateLimit, NegativeIntervalLogsEveryCall) {
  Logger logger;
  Captured captured;
  logger.set_sink(captured.sink());
  logger.set_rate_limit_interval(nanoseconds(-5));
  for (int i = 0; i < 5; ++i) logger.log_limited(LogKind::kBadAnnotation, LogLevel::kWarn, "bad");
  EXPECT_EQ(captured.lines().size(), 5u);
}

// No sleeping: suppress two lines under a 1 h interval, then drop the interval to zero; the next
// line is delivered and reports the two suppressed ones.
TEST(LoggerRateLimit, LineAfterSuppressionReportsSuppressedCount) {
  Logger logger;
  Captured captured;
  logger.set_sink(captured.sink());
  logger.set_rate_limit_interval(hours(1));
  logger.log_limited(LogKind::kSendError, LogLevel::kWarn, "send failed");
  logger.log_limited(LogKind::kSendError, LogLevel::kWarn, "send failed");
  logger.log_limited(LogKind::kSendError, LogLevel::kWarn, "send failed");
  ASSERT_EQ(captured.lines().size(), 1u);

  logger.set_rate_limit_interval(nanoseconds(0));
  logger.log_limited(LogKind::kSendError, LogLevel::kWarn, "send failed");
  auto lines = captured.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].first, LogLevel::kWarn);
  EXPECT_NE(lines[1].second.find("send failed"), std::string::npos) << lines[1].second;
  EXPECT_NE(lines[1].second.find("2 similar messages suppressed"), std::string::npos)
      << lines[1].second;

  // The count was reported once; the next line carries none.
  logger.log_limited(LogKind::kSendError, LogLevel::kWarn, "send failed");
  lines = captured.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2].second, "send failed");
}

TEST(LoggerRateLimit, SuppressedCountIsPerKind) {
  Logger logger;
  Captured captured;
  logger.set_sink(captured.sink());
  logger.set_rate_limit_interval(hours(1));
  logger.log_limited(LogKind::kSendError, LogLevel::kWarn, "send");
  logger.log_limited(LogKind::kSendError, LogLevel::kWarn, "send");
  logger.log_limited(LogKind::kQueueFull, LogLevel::kWarn, "queue");
  logger.set_rate_limit_interval(nanoseconds(0));
  logger.log_limited(LogKind::kQueueFull, LogLevel::kWarn, "queue");
  logger.log_limited(LogKind::kSendError, LogLevel::kWarn, "send");
  auto lines = captured.lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2].second, "queue");  // nothing of this kind was suppressed
  EXPECT_NE(lines[3].second.find("1 similar messages suppressed"), std::string::npos)
      << lines[3].second;
}

// --- concurrency ---------------------------------------------------------------------------------

TEST(LoggerConcurrency, ManyThreadsLogLimited) {
  constexpr int kThreads = 8;
  constexpr int kCalls = 1000;
  Logger logger;
  std::atomic<int> delivered{0};
  std::atomic<long long> reported_suppressed{0};
  logger.set_sink([&](LogLevel, std::string_view message) {
    delivered.fetch_add(1, std::memory_order_relaxed);
    auto paren = message.find(" (");
    if (paren != std::string_view::npos) {
      reported_suppressed.fetch_add(std::stoll(std::string(message.substr(paren + 2))),
                                    std::memory_order_relaxed);
    }
  });

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < kCalls; ++i) {
        logger.log_limited(static_cast<LogKind>(i % 2), LogLevel::kError, "event");
        if (t == 0 && i == kCalls / 2) logger.set_rate_limit_interval(nanoseconds(0));
      }
    });
  }
  for (auto& thread : threads) thread.join();

  const long long total = static_cast<long long>(kThreads) * kCalls;
  EXPECT_GE(delivered.load(), 1);
  EXPECT_LE(delivered.load(), total);
  // Every call was either delivered or suppressed; a suppressed one is reported at most once.
  EXPECT_LE(delivered.load() + reported_suppressed.load(), total);
}

TEST(LoggerConcurrency, SetSinkWhileLogging) {
  Logger logger;
  std::atomic<int> a{0};
  std::atomic<int> b{0};
  logger.set_sink([&a](LogLevel, std::string_view) { a.fetch_add(1, std::memory_order_relaxed); });
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) logger.log(LogLevel::kError, "x");
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 200; ++i) {
      if (i % 2 == 0) {
        logger.set_sink([&b](LogLevel, std::string_view) { b.fetch_add(1, std::memory_order_relaxed); });
      } else {
        logger.set_sink([&a](LogLevel, std::string_view) { a.fetch_add(1, std::memory_order_relaxed); });
      }
      logger.set_level(i % 3 == 0 ? LogLevel::kWarn : LogLevel::kError);
    }
  });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(a.load() + b.load(), 4 * 2000);
  (void)stop;
}

}  // namespace
}  // namespace xray::detail
