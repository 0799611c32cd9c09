#include "emitter/udp_emitter.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <algorithm>
#include <vector>
#include <mutex>
#include <deque>
#include <memory>
#include <optional>
#include <thread>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "emitter/datagram_transport.hpp"
#include "net/resolver.hpp"
#include "support/fake_daemon.hpp"
#include "support/test_recorder.hpp"
#include "xray/recorder.hpp"

namespace xray {
namespace {

using ::testing::IsEmpty;
using namespace std::chrono_literals;

detail::UdpEmitter* install_emitter(Recorder& recorder) {
  auto& core = detail::RecorderAccess::core(recorder);
  auto emitter = std::make_unique<detail::UdpEmitter>(
      core.logger(), [&core] { return core.plugins().result(); }, 2048);
  detail::UdpEmitter* raw = emitter.get();
  core.set_emitter(std::move(emitter));
  return raw;
}

// A loopback port with nothing listening: sends to it draw ICMP port unreachable.
std::uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

void end_segments(Recorder& recorder, int count) {
  for (int i = 0; i < count; ++i) {
    SegmentScope segment = recorder.begin_segment("segment");
  }
}

TEST(UdpEmitterTest, MaxDatagramBytesAcceptsOnlyTheSpecRange) {
  detail::Logger logger;
  detail::UdpEmitter emitter(logger, nullptr, 16);
  EXPECT_FALSE(emitter.set_max_datagram_bytes(1023));
  EXPECT_FALSE(emitter.set_max_datagram_bytes(65508));
  EXPECT_TRUE(emitter.set_max_datagram_bytes(1024));
  EXPECT_TRUE(emitter.set_max_datagram_bytes(65507));
}

class SendPathTest : public ::testing::TestWithParam<bool> {};

TEST_P(SendPathTest, RefusedSendsAreCountedNotThrown) {
  testing::CapturedLog log;
  Recorder recorder;
  detail::UdpEmitter* emitter = install_emitter(recorder);
  emitter->set_force_plain_send(GetParam());
  Config config;
  config.service_name = "refused";
  config.daemon_address = "127.0.0.1:" + std::to_string(closed_port());
  config.sampling = false;
  config.log_sink = log.sink();
  ASSERT_TRUE(testing::configure(recorder, config).ok());
  // Separate passes so the ICMP error of one send surfaces on a later one.
  for (int i = 0; i < 20; ++i) {
    end_segments(recorder, 1);
    ASSERT_TRUE(recorder.flush(5s));
    std::this_thread::sleep_for(2ms);
  }
  Stats stats = recorder.stats();
  EXPECT_GT(stats.send_errors, 0u);
  EXPECT_EQ(stats.emitted + stats.send_errors, 20u);
  EXPECT_TRUE(log.contains("cannot send to the daemon"));
}

TEST_P(SendPathTest, SmallerMaxDatagramSplitsDocuments) {
  testing::FakeDaemon daemon;
  Recorder recorder;
  detail::UdpEmitter* emitter = install_emitter(recorder);
  emitter->set_force_plain_send(GetParam());
  Config config = testing::config_for(daemon);
  config.max_datagram_bytes = 2000;
  config.streaming_threshold_bytes = 100'000'000;  // only the emitter's ladder splits here
  ASSERT_TRUE(testing::configure(recorder, config).ok());
  {
    SegmentScope segment = recorder.begin_segment("segment");
    for (int i = 0; i < 10; ++i) {
      SubsegmentScope child = recorder.begin_subsegment("child", segment.context());
      child.put_metadata("payload", std::string(500, 'x'));
    }
  }
  ASSERT_TRUE(recorder.flush(5s));
  Stats stats = recorder.stats();
  ASSERT_TRUE(daemon.wait_for_documents(stats.datagrams_sent, 5s));
  EXPECT_GT(stats.streamed, 5u);
  EXPECT_EQ(stats.emitted, 1u);  // one document, split by the ladder
  EXPECT_EQ(stats.datagrams_sent, stats.streamed + 1);
  EXPECT_EQ(testing::flatten(daemon.documents()).size(), 11u);
  EXPECT_LE(daemon.max_datagram_size(), 2000u);
  EXPECT_THAT(daemon.errors(), IsEmpty());
}

TEST_P(SendPathTest, PacingSpacesDatagramsOut) {
  testing::FakeDaemon daemon;
  Recorder recorder;
  detail::UdpEmitter* emitter = install_emitter(recorder);
  emitter->set_force_plain_send(GetParam());
  Config config = testing::config_for(daemon);
  config.emit_rate = 1000;
  config.emit_burst = 10;
  ASSERT_TRUE(testing::configure(recorder, config).ok());
  auto start = std::chrono::steady_clock::now();
  end_segments(recorder, 110);
  ASSERT_TRUE(recorder.flush(10s));
  // 10 at once, then 100 at 1,000/s: at least ~100 ms (a lower bound, never flaky on slow hosts).
  EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);
  ASSERT_TRUE(daemon.wait_for_documents(110, 5s));
  EXPECT_EQ(recorder.stats().emitted, 110u);
}

INSTANTIATE_TEST_SUITE_P(SendPaths, SendPathTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("PlainSend") : std::string("Sendmmsg");
                         });

TEST(UdpEmitterFaultTest, AReceiverThatNeverReadsCostsNothingButTheDatagrams) {
  // A daemon that hangs with its socket open: its receive buffer fills and the kernel drops the
  // rest. Sending never blocks, flush and shutdown finish, and the queue stays bounded.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  auto recorder = std::make_unique<Recorder>();
  Config config;
  config.service_name = "never-read";
  config.daemon_address = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  config.sampling = false;
  config.log_level = LogLevel::kSilent;
  config.emit_rate = 0;  // unpaced: fill the receiver as fast as possible
  config.queue_capacity = 512;
  config.shutdown_timeout = 200ms;
  ASSERT_TRUE(testing::configure(*recorder, config).ok());
  for (int round = 0; round < 10; ++round) {
    end_segments(*recorder, 500);
    ASSERT_TRUE(recorder->flush(10s));
  }
  Stats stats = recorder->stats();
  EXPECT_EQ(stats.emitted + stats.send_errors + stats.dropped_queue_full, 5000u);
  EXPECT_GT(stats.emitted, 0u);
  const auto start = std::chrono::steady_clock::now();
  recorder.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1200ms);
  ::close(fd);
}

TEST(UdpEmitterStatsTest, DocumentsStillQueuedWhenShutdownGivesUpAreDroppedAtShutdown) {
  testing::FakeDaemon daemon;
  auto recorder = std::make_unique<Recorder>();
  Config config = testing::config_for(daemon);
  config.emit_rate = 100;  // 1,000 documents would take 10 s
  config.emit_burst = 10;
  config.shutdown_timeout = 100ms;
  ASSERT_TRUE(testing::configure(*recorder, config).ok());
  end_segments(*recorder, 1000);
  const auto start = std::chrono::steady_clock::now();
  detail::RecorderAccess::core(*recorder).shutdown(100ms);
  // Bounded by shutdown's timeout even while pacing holds datagrams back (it once took a whole
  // pass of 256 documents at 100/s: 2.5 s). A functional bound, not a benchmark.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  end_segments(*recorder, 5);  // after shutdown: refused, and counted the same way
  Stats stats = recorder->stats();
  EXPECT_EQ(stats.dropped_queue_full, 0u);
  EXPECT_GT(stats.dropped_at_shutdown, 900u);
  EXPECT_EQ(stats.emitted + stats.dropped_at_shutdown, 1005u);
  EXPECT_EQ(stats.emitted, stats.datagrams_sent);  // nothing here was split
}

// ---- Host-name daemons: lookups that fail, hang or change (net/resolver.hpp test hook) ----

std::atomic<int> g_lookups{0};
std::atomic<int> g_lookup_answer{0};  // 0: fail, 1: 127.0.0.1, 2: ::1, 3: hang 3 s then 127.0.0.1

detail::Resolution scripted_lookup(const std::string&, detail::SocketKind) {
  ++g_lookups;
  detail::Resolution resolution;
  switch (g_lookup_answer.load()) {
    case 0:
      resolution.error = "Name or service not known";
      break;
    case 3:
      std::this_thread::sleep_for(3s);
      [[fallthrough]];
    case 1:
      resolution.addresses = {"127.0.0.1"};
      break;
    default:
      resolution.addresses = {"::1"};
  }
  return resolution;
}

class DaemonNameTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_lookups = 0;
    detail::set_lookup_for_testing(&scripted_lookup);
  }
  void TearDown() override { detail::set_lookup_for_testing(nullptr); }
};

TEST_F(DaemonNameTest, ANameThatDoesNotResolveIsRetriedWithBackoffNotPerSend) {
  // Regression (hostile run): every failed send re-resolved, ~960 lookups per second.
  g_lookup_answer = 0;
  auto recorder = std::make_unique<Recorder>();
  Config config;
  config.service_name = "storm";
  config.daemon_address = "nowhere.test:2000";
  config.sampling = false;
  config.log_level = LogLevel::kSilent;
  config.queue_capacity = 100;
  config.shutdown_timeout = 100ms;
  ASSERT_TRUE(testing::configure(*recorder, config).ok());
  const auto start = std::chrono::steady_clock::now();
  int ended = 0;
  while (std::chrono::steady_clock::now() - start < 1500ms) {
    end_segments(*recorder, 10);
    ended += 10;
    std::this_thread::sleep_for(5ms);
  }
  // 1.5 s is inside the first backoff step (2 s): one lookup, whatever the number of documents.
  EXPECT_EQ(g_lookups.load(), 1);
  // Meanwhile the documents wait in the (bounded) queue for the name to come back; the rest are
  // refused at the door. Nothing is handed to a thread that could only count it lost.
  Stats stats = recorder->stats();
  EXPECT_EQ(stats.send_errors, 0u);
  EXPECT_EQ(stats.dropped_queue_full, static_cast<std::uint64_t>(ended - 100));
  const auto shutdown_start = std::chrono::steady_clock::now();
  recorder.reset();  // shutdown gives up on the queued 100 at its deadline, not at the next attempt
  EXPECT_LT(std::chrono::steady_clock::now() - shutdown_start, 400ms);
}

TEST_F(DaemonNameTest, DocumentsQueuedWhileTheNameFailsAreSentWhenItResolves) {
  testing::FakeDaemon daemon;
  g_lookup_answer = 0;
  Recorder recorder;
  Config config = testing::config_for(daemon);
  config.daemon_address = "late.test:" + std::to_string(daemon.port());
  config.log_level = LogLevel::kSilent;
  ASSERT_TRUE(testing::configure(recorder, config).ok());
  end_segments(recorder, 5);
  while (g_lookups.load() == 0) std::this_thread::sleep_for(1ms);
  g_lookup_answer = 1;  // e.g. the daemon's sidecar came up: retried after the 2 s backoff
  ASSERT_TRUE(recorder.flush(10s));
  EXPECT_TRUE(daemon.wait_for_documents(5, 5s));
  EXPECT_EQ(recorder.stats().emitted, 5u);
  EXPECT_EQ(g_lookups.load(), 2);
}

TEST_F(DaemonNameTest, AHungLookupDoesNotHoldShutdown) {
  // Regression (hostile run): exit waited for getaddrinfo (27 s measured).
  g_lookup_answer = 3;
  auto recorder = std::make_unique<Recorder>();
  Config config;
  config.service_name = "hung-dns";
  config.daemon_address = "hung.test:2000";
  config.sampling = false;
  config.log_level = LogLevel::kSilent;
  config.shutdown_timeout = 200ms;
  ASSERT_TRUE(testing::configure(*recorder, config).ok());
  end_segments(*recorder, 5);
  while (g_lookups.load() == 0) std::this_thread::sleep_for(1ms);  // the lookup is under way
  const auto start = std::chrono::steady_clock::now();
  recorder.reset();  // shutdown_timeout bounds it, DNS included
  // A functional bound, not a benchmark: the lookup alone takes 3 s.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1200ms);
}

TEST_F(DaemonNameTest, ASlowLookupStillDelivers) {
  testing::FakeDaemon daemon;
  g_lookup_answer = 1;
  Recorder recorder;
  Config config = testing::config_for(daemon);
  config.daemon_address = "daemon.test:" + std::to_string(daemon.port());
  ASSERT_TRUE(testing::configure(recorder, config).ok());
  end_segments(recorder, 3);
  ASSERT_TRUE(recorder.flush(5s));
  EXPECT_TRUE(daemon.wait_for_documents(3, 5s));
}

TEST_F(DaemonNameTest, TheDaemonMovingBehindTheSameNameIsFollowed) {
  std::optional<testing::FakeDaemon> first(std::in_place);
  const std::uint16_t port = first->port();
  std::optional<testing::FakeDaemon> second;
  try {
    second.emplace(testing::IpVersion::kV6, port);
  } catch (const testing::LoopbackUnavailable&) {
    GTEST_SKIP() << "::1 is not available";
  } catch (const std::system_error&) {
    GTEST_SKIP() << "port " << port << " is taken on ::1";
  }
  g_lookup_answer = 1;
  Recorder recorder;
  Config config = testing::config_for(*first);
  config.daemon_address = "moving.test:" + std::to_string(port);
  config.log_level = LogLevel::kSilent;
  ASSERT_TRUE(testing::configure(recorder, config).ok());
  end_segments(recorder, 1);
  ASSERT_TRUE(recorder.flush(5s));
  ASSERT_TRUE(first->wait_for_documents(1, 5s));

  // The daemon moves: the old address refuses, the name now answers ::1.
  first.reset();
  g_lookup_answer = 2;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (second->datagram_count() == 0 && std::chrono::steady_clock::now() < deadline) {
    end_segments(recorder, 1);
    ASSERT_TRUE(recorder.flush(5s));
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GT(second->datagram_count(), 0u);
  EXPECT_LE(g_lookups.load(), 4);  // re-resolved after send errors, at most every 2 s
}

// ---- The transport seam: the emitter with an in-process transport instead of UDP ----

// Keeps what the emitter hands over; scripted reports make sends fail on purpose.
struct InProcessReceiver {
  std::mutex mutex;
  std::vector<std::string> received;
  std::deque<detail::SendReport> scripted;  // applied one per send, in order
  bool reachable = true;
};

class InProcessTransport final : public detail::DatagramTransport {
 public:
  explicit InProcessTransport(std::shared_ptr<InProcessReceiver> receiver)
      : receiver_(std::move(receiver)) {}
  bool ready(const DaemonAddress&, const std::function<bool()>&) noexcept override {
    std::lock_guard<std::mutex> lock(receiver_->mutex);
    return receiver_->reachable;
  }
  std::chrono::steady_clock::time_point retry_at() const noexcept override {
    return std::chrono::steady_clock::now() + 5ms;
  }
  detail::SendReport send(const std::string* datagrams, std::size_t count) noexcept override {
    std::lock_guard<std::mutex> lock(receiver_->mutex);
    detail::SendReport report;
    report.sent = count;
    if (!receiver_->scripted.empty()) {
      report = receiver_->scripted.front();
      receiver_->scripted.pop_front();
      report.sent = std::min(report.sent, count);
      report.lost = report.stalled ? count - report.sent : std::min(report.lost, count - report.sent);
    }
    receiver_->received.insert(receiver_->received.end(), datagrams, datagrams + report.sent);
    return report;
  }

 private:
  std::shared_ptr<InProcessReceiver> receiver_;
};

class TransportSeamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& core = detail::RecorderAccess::core(recorder_);
    core.set_emitter(std::make_unique<detail::UdpEmitter>(
        core.logger(), nullptr, 2048,
        [receiver = receiver_] { return std::make_unique<InProcessTransport>(receiver); }));
    Config config;
    config.service_name = "seam";
    config.sampling = false;
    config.emit_rate = 0;  // unpaced: each pass is one batch, handed over at once
    config.log_sink = log_.sink();
    ASSERT_TRUE(testing::configure(recorder_, config).ok());
  }

  void set_reachable(bool reachable) {
    std::lock_guard<std::mutex> lock(receiver_->mutex);
    receiver_->reachable = reachable;
  }

  testing::CapturedLog log_;
  std::shared_ptr<InProcessReceiver> receiver_ = std::make_shared<InProcessReceiver>();
  Recorder recorder_;
};

TEST_F(TransportSeamTest, DatagramsReachTheInjectedTransport) {
  end_segments(recorder_, 3);
  ASSERT_TRUE(recorder_.flush(5s));
  std::lock_guard<std::mutex> lock(receiver_->mutex);
  ASSERT_EQ(receiver_->received.size(), 3u);
  std::uint64_t bytes = 0;
  for (const std::string& datagram : receiver_->received) {
    bytes += datagram.size();
    const std::string header = "{\"format\":\"json\",\"version\":1}\n";
    ASSERT_EQ(datagram.compare(0, header.size(), header), 0);
    EXPECT_EQ(nlohmann::json::parse(datagram.substr(header.size()))["name"], "segment");
  }
  const Stats stats = recorder_.stats();
  EXPECT_EQ(stats.emitted, 3u);
  EXPECT_EQ(stats.datagrams_sent, 3u);
  EXPECT_EQ(stats.bytes_sent, bytes);
}

TEST_F(TransportSeamTest, WhatTheTransportLosesIsCountedByKind) {
  set_reachable(false);  // everything waits in the queue, then goes out in one pass
  {
    std::lock_guard<std::mutex> lock(receiver_->mutex);
    detail::SendReport too_large;  // 1 sent, then one refused for its size
    too_large.sent = 1;
    too_large.lost = 1;
    too_large.too_large = true;
    detail::SendReport refused;  // one lost (a refused send)
    refused.sent = 0;
    refused.lost = 1;
    detail::SendReport stalled;  // the destination stays full: the rest of the batch is lost
    stalled.sent = 0;
    stalled.stalled = true;
    receiver_->scripted = {too_large, refused, stalled};
  }
  end_segments(recorder_, 5);
  EXPECT_FALSE(recorder_.flush(50ms));  // queued, not lost, while the daemon is unreachable
  EXPECT_EQ(recorder_.stats().send_errors, 0u);
  set_reachable(true);
  ASSERT_TRUE(recorder_.flush(5s));
  const Stats stats = recorder_.stats();
  EXPECT_EQ(stats.emitted, 1u);
  EXPECT_EQ(stats.datagrams_sent, 1u);
  EXPECT_EQ(stats.dropped_too_large, 1u);
  EXPECT_EQ(stats.send_errors, 3u);  // the refused one and the two after the stall
  std::lock_guard<std::mutex> lock(receiver_->mutex);
  EXPECT_EQ(receiver_->received.size(), 1u);
}

}  // namespace
}  // namespace xray
