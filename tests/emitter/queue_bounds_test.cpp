// The emitter queue's two bounds, documents (Config::queue_capacity) and bytes
// (Config::queue_capacity_bytes), against real loopback receivers. Counted, never timed.
#include "emitter/udp_emitter.hpp"

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/fake_daemon.hpp"
#include "support/test_recorder.hpp"
#include "xray/recorder.hpp"

namespace xray {
namespace {

bool load_tests_enabled() {
  const char* variant = std::getenv("XRAY_TEST_VARIANT");
  std::string value = variant ? variant : "";
  return value != "asan" && value != "tsan";
}

// The performance issue's request: a segment and three subsegments with a string annotation each.
void request(Recorder& recorder) {
  SegmentScope segment = recorder.begin_segment("request");
  for (const char* name : {"validate", "query", "render"}) {
    SubsegmentScope sub = recorder.begin_subsegment(name);
    sub.put_annotation("step", name);
  }
}

// A segment carrying `bytes` of annotation text.
void big_request(Recorder& recorder, std::size_t bytes) {
  SegmentScope segment = recorder.begin_segment("big");
  segment.put_annotation("payload", std::string(bytes, 'x'));
}

TEST(QueueBoundsTest, ABurstOfTenThousandIsTakenByAQueueOfSixteenThousand) {
  testing::FakeDaemon daemon;
  Recorder recorder;
  Config config = testing::config_for(daemon);
  config.queue_capacity = 16384;  // the byte bound is left at its default
  config.emit_rate = load_tests_enabled() ? config.emit_rate : 0;
  ASSERT_TRUE(testing::configure(recorder, config).ok());
  for (int i = 0; i < 10000; ++i) request(recorder);
  // Counted at the door, before anything had to be sent: none refused.
  EXPECT_EQ(recorder.stats().dropped_queue_full, 0u);
  ASSERT_TRUE(recorder.flush(std::chrono::seconds(60)));
  const Stats stats = recorder.stats();
  EXPECT_EQ(stats.dropped_queue_full, 0u);
  // Every one of them went out (what a loaded receiver loses is burst_test's subject).
  EXPECT_EQ(stats.emitted + stats.send_errors, 10000u);
  EXPECT_TRUE(daemon.wait_for_datagrams(1, std::chrono::seconds(10)));
}

TEST(QueueBoundsTest, AnOverloadOfBigDocumentsIsBoundedInBytesAndCounted) {
  testing::FakeDaemon daemon;
  auto recorder = std::make_unique<Recorder>();
  Config config = testing::config_for(daemon);
  config.queue_capacity = 2048;             // never reached here
  config.queue_capacity_bytes = 1 << 20;    // 1 MiB: about twenty 50 KB documents
  config.emit_rate = 1;                     // hardly anything leaves while the test submits
  config.emit_burst = 1;
  config.log_level = LogLevel::kSilent;
  config.shutdown_timeout = std::chrono::milliseconds(0);
  ASSERT_TRUE(testing::configure(*recorder, config).ok());
  constexpr std::size_t kDocuments = 200;
  constexpr std::size_t kPayload = 50000;
  for (std::size_t i = 0; i < kDocuments; ++i) big_request(*recorder, kPayload);
  const Stats stats = recorder->stats();
  // Each document is charged at least its payload, so at most 1 MiB / 50 KB of them are held
  // (one more: an empty queue takes any document).
  const std::size_t most = (std::size_t{1} << 20) / kPayload + 1;
  EXPECT_GE(stats.dropped_queue_full, kDocuments - most);
  EXPECT_LT(stats.dropped_queue_full, kDocuments);
  // Shutdown drops what is still held, counted: every document was sent or counted as dropped.
  detail::RecorderAccess::core(*recorder).shutdown(std::chrono::milliseconds(0));
  const Stats after = recorder->stats();
  EXPECT_EQ(after.emitted + after.send_errors + after.dropped_queue_full + after.dropped_at_shutdown,
            kDocuments);
}

TEST(QueueBoundsTest, EveryDocumentIsSentOrCountedUnderOverload) {
  testing::FakeDaemon daemon;
  Recorder recorder;
  detail::UdpEmitter* emitter = nullptr;
  {
    auto& core = detail::RecorderAccess::core(recorder);
    auto owned = std::make_unique<detail::UdpEmitter>(
        core.logger(), [&core] { return core.plugins().result(); }, 2048);
    emitter = owned.get();
    core.set_emitter(std::move(owned));
  }
  Config config = testing::config_for(daemon);
  config.queue_capacity = 64;
  config.queue_capacity_bytes = 200000;
  config.log_level = LogLevel::kSilent;
  ASSERT_TRUE(testing::configure(recorder, config).ok());
  constexpr std::size_t kPerThread = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&recorder, t] {
      for (std::size_t i = 0; i < kPerThread; ++i) {
        if (i % 2 == 0) {
          request(recorder);
        } else {
          big_request(recorder, 10000 + static_cast<std::size_t>(t));
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(recorder.flush(std::chrono::seconds(60)));
  const Stats stats = emitter->stats();
  EXPECT_GT(stats.dropped_queue_full, 0u);
  EXPECT_EQ(stats.emitted + stats.send_errors + stats.dropped_queue_full, 2 * kPerThread);
}

}  // namespace
}  // namespace xray
