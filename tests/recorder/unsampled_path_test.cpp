// The unsampled request path (the performance issue's rules): once a thread is warm, a request
// from an upstream `Sampled=0` header allocates nothing from the heap and never reads the clock,
// and its scopes still behave as before (context, outbound header, nothing sent).
//
// This program replaces the global operator new to count the calling thread's allocations, so it
// is a test executable of its own.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>

#include <gtest/gtest.h>

#include "base/thread_block_cache.hpp"
#include "model/clock.hpp"
#include "recorder/recorder_core.hpp"
#include "support/fake_daemon.hpp"
#include "xray/context.hpp"
#include "xray/recorder.hpp"

namespace {
thread_local std::size_t t_allocations = 0;
}  // namespace

// GCC sees the free() of a block from operator new once these are inlined into callers; here the
// pairing is deliberate (operator new is malloc).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  ++t_allocations;
  if (void* block = std::malloc(size == 0 ? 1 : size)) return block;
  throw std::bad_alloc();
}
void operator delete(void* block) noexcept { std::free(block); }
void operator delete(void* block, std::size_t) noexcept { std::free(block); }
#pragma GCC diagnostic pop

namespace xray {
namespace {

using testing::FakeDaemon;

constexpr const char* kUnsampled = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0";

// Counts every reading of the time.
class CountingClock final : public detail::Clock {
 public:
  std::int64_t system_now_us() const noexcept override {
    reads.fetch_add(1);
    return real.system_now_us();
  }
  std::int64_t steady_now_ns() const noexcept override {
    reads.fetch_add(1);
    return real.steady_now_ns();
  }
  mutable std::atomic<int> reads{0};
  detail::RealClock real;
};

class UnsampledPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Config config;
    config.service_name = "svc";
    config.daemon_address = daemon_.address();
    config.log_level = LogLevel::kSilent;
    ASSERT_TRUE(recorder_.configure(config).ok());
  }

  // The request: a segment, three subsegments with a string annotation each.
  void request() {
    auto segment = recorder_.begin_segment("request", upstream_);
    for (const char* name : {"validate", "query", "render"}) {
      auto subsegment = recorder_.begin_subsegment(name);
      subsegment.put_annotation("step", name);
    }
  }

  FakeDaemon daemon_;
  Recorder recorder_;
  const TraceHeader upstream_ = TraceHeader::parse(kUnsampled);
};

TEST_F(UnsampledPathTest, AllocatesNothingOnceTheThreadIsWarm) {
  if (!detail::kThreadBlockCacheEnabled) {
    GTEST_SKIP() << "AddressSanitizer build: entities go straight to the heap (thread_block_cache.hpp)";
  }
  for (int i = 0; i < 10; ++i) request();  // the thread's caches, context stack and anchors
  const std::size_t before = t_allocations;
  for (int i = 0; i < 1000; ++i) request();
  EXPECT_EQ(t_allocations - before, 0u);
}

TEST_F(UnsampledPathTest, NeverReadsTheClock) {
  auto clock = std::make_shared<CountingClock>();
  detail::RecorderAccess::core(recorder_).set_clock(clock);
  for (int i = 0; i < 100; ++i) request();
  EXPECT_EQ(clock->reads.load(), 0);
}

TEST_F(UnsampledPathTest, ScopesKeepTheirContextAndSendNothing) {
  {
    auto segment = recorder_.begin_segment("request", upstream_);
    ASSERT_TRUE(segment.active());
    EXPECT_FALSE(segment.sampled());
    {
      auto subsegment = recorder_.begin_subsegment("query");
      ASSERT_TRUE(subsegment.active());
      EXPECT_FALSE(subsegment.sampled());
      EXPECT_EQ(subsegment.trace_id(), "1-5759e988-bd862e3fe1be46a994272793");
      EXPECT_EQ(subsegment.id(), "");  // no-op ids
      EXPECT_EQ(subsegment.outbound_header().to_string(),
                "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0");
      // Ended twice, and out of order with a nested one: the segment stays current throughout.
      auto nested = recorder_.begin_subsegment("nested");
      subsegment.end();
      subsegment.end();
      EXPECT_TRUE(current_context().outbound_header() == segment.outbound_header());
      nested.end();
    }
    EXPECT_FALSE(current_context().empty());
    EXPECT_EQ(current_context().trace_id(), "1-5759e988-bd862e3fe1be46a994272793");
  }
  EXPECT_TRUE(current_context().empty());
  ASSERT_TRUE(recorder_.flush(std::chrono::seconds(2)));
  EXPECT_TRUE(daemon_.documents().empty());
  EXPECT_EQ(recorder_.stats().emitted, 0u);
}

}  // namespace
}  // namespace xray
