// Integration: bursts of ended segments against receivers of realistic capacity. Delivery is
// counted, never timed. The load-shaped cases run only in the plain build (toolchain notes: the
// receiver is several times slower under ASan/TSan on 2 cores); a small functional variant runs
// everywhere.
#include "emitter/udp_emitter.hpp"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_daemon.hpp"
#include "support/slow_receiver.hpp"
#include "support/test_recorder.hpp"
#include "xray/recorder.hpp"

namespace xray {
namespace {

using ::testing::IsEmpty;

bool load_tests_enabled() {
  const char* variant = std::getenv("XRAY_TEST_VARIANT");
  std::string value = variant ? variant : "";
  return value != "asan" && value != "tsan";
}

// Replaces the recorder's emitter with one the test can tune; configure() then sets its address.
detail::UdpEmitter* install_emitter(Recorder& recorder, std::size_t queue_capacity) {
  auto& core = detail::RecorderAccess::core(recorder);
  auto emitter = std::make_unique<detail::UdpEmitter>(
      core.logger(), [&core] { return core.plugins().result(); }, queue_capacity);
  detail::UdpEmitter* raw = emitter.get();
  core.set_emitter(std::move(emitter));
  return raw;
}

Config config_for_address(const std::string& address, std::size_t queue_capacity) {
  Config config;
  config.service_name = "burst";
  config.daemon_address = address;
  config.sampling = false;
  config.queue_capacity = queue_capacity;
  return config;
}

// Ends `segments` small sampled segments as fast as one thread can.
void end_segments(Recorder& recorder, std::size_t segments) {
  for (std::size_t i = 0; i < segments; ++i) {
    SegmentScope segment = recorder.begin_segment("burst-segment");
    segment.put_annotation("index", static_cast<std::int64_t>(i));
    SubsegmentScope call = recorder.begin_subsegment("downstream");
    call.put_annotation("table", "orders");
  }
}

std::uint64_t burst_against_slow_receiver(std::size_t segments, std::size_t queue_capacity) {
  testing::SlowReceiver receiver(/*parse=*/true);
  Recorder recorder;
  EXPECT_TRUE(testing::configure(recorder, config_for_address(receiver.address(), queue_capacity)).ok());
  end_segments(recorder, segments);
  EXPECT_TRUE(recorder.flush(std::chrono::seconds(30)));
  std::uint64_t received =
      receiver.wait_for_quiet(segments, std::chrono::seconds(10), std::chrono::milliseconds(500));
  Stats stats = recorder.stats();
  std::cout << "burst of " << segments << " segments: " << received << " received ("
            << (100.0 * static_cast<double>(received) / static_cast<double>(segments))
            << "%), receiver SO_RCVBUF " << receiver.receive_buffer_bytes() << " bytes, emitted "
            << stats.emitted << ", send_errors " << stats.send_errors << ", dropped_queue_full "
            << stats.dropped_queue_full << "\n";
  EXPECT_EQ(stats.dropped_queue_full, 0u);
  EXPECT_EQ(stats.emitted, segments);
  EXPECT_EQ(receiver.parse_failures(), 0u);
  return received;
}

// Zero loss at the default pace into a reader shaped like the daemon (one reader, the kernel's
// default receive buffer): the default burst is sized for that buffer (Config::emit_burst).
TEST(BurstTest, TwoThousandSegmentsReachAReceiverWithTheDefaultBufferWithoutLoss) {
  if (!load_tests_enabled()) GTEST_SKIP() << "load-shaped: plain build only";
  EXPECT_EQ(burst_against_slow_receiver(2000, 2048), 2000u);
}

TEST(BurstTest, TenThousandSegmentsReachAReceiverWithALargeQueueWithoutLoss) {
  if (!load_tests_enabled()) GTEST_SKIP() << "load-shaped: plain build only";
  EXPECT_EQ(burst_against_slow_receiver(10000, 16384), 10000u);
}

// The functional variant: every document arrives intact and valid, through sendmmsg batches and
// through the forced plain-send path.
class SmallBurstTest : public ::testing::TestWithParam<bool> {};

TEST_P(SmallBurstTest, EveryDocumentArrivesOnce) {
  const bool plain = GetParam();
  constexpr std::size_t kSegments = 200;
  testing::FakeDaemon daemon;
  Recorder recorder;
  detail::UdpEmitter* emitter = install_emitter(recorder, 2048);
  emitter->set_force_plain_send(plain);
  ASSERT_TRUE(testing::configure(recorder, config_for_address(daemon.address(), 2048)).ok());
  end_segments(recorder, kSegments);
  ASSERT_TRUE(recorder.flush(std::chrono::seconds(30)));
  ASSERT_TRUE(daemon.wait_for_documents(kSegments, std::chrono::seconds(10)));
  std::set<std::string> ids;
  for (const auto& document : daemon.documents()) ids.insert(document.at("id").get<std::string>());
  EXPECT_EQ(ids.size(), kSegments);
  Stats stats = recorder.stats();
  EXPECT_EQ(stats.emitted, kSegments);
  EXPECT_EQ(stats.datagrams_sent, kSegments);
  EXPECT_EQ(stats.send_errors, 0u);
  EXPECT_GT(stats.bytes_sent, kSegments * 100);
  EXPECT_THAT(daemon.errors(), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(SendPaths, SmallBurstTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("PlainSend") : std::string("Sendmmsg");
                         });

}  // namespace
}  // namespace xray
