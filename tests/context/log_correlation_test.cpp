#include "xray/log_correlation.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <thread>

#include "support/fake_daemon.hpp"
#include "support/test_recorder.hpp"
#include "xray/recorder.hpp"

namespace xray {
namespace {

using xray::testing::FakeDaemon;

constexpr char kRoot[] = "1-5759e988-bd862e3fe1be46a994272793";

class LogCorrelationTest : public ::testing::Test {
 protected:
  void configure_with(testing::EnvironmentMap env = {}) {
    ASSERT_TRUE(testing::configure(recorder_, testing::config_for(daemon_), std::move(env)).ok());
  }

  FakeDaemon daemon_;
  Recorder recorder_;
};

TEST_F(LogCorrelationTest, EmptyWithoutACurrentEntity) {
  configure_with();
  const LogTraceId ids = current_log_trace_id();
  EXPECT_TRUE(ids.empty());
  EXPECT_EQ(ids.formatted(), "");
  EXPECT_EQ(ids.trace_id(), "");
  EXPECT_EQ(ids.entity_id(), "");
  EXPECT_TRUE(log_trace_id(Context()).empty());
}

TEST_F(LogCorrelationTest, TheCurrentSegmentThenSubsegmentThenNothing) {
  configure_with();
  {
    auto segment = recorder_.begin_segment(
        "svc", TraceHeader::parse(std::string("Root=") + kRoot + ";Sampled=1"));
    const LogTraceId at_segment = current_log_trace_id();
    EXPECT_EQ(at_segment.formatted(), std::string(kRoot) + "@" + segment.context().entity_id());
    EXPECT_EQ(at_segment.trace_id(), kRoot);
    EXPECT_EQ(at_segment.entity_id(), segment.context().entity_id());
    {
      auto sub = recorder_.begin_subsegment("query");
      const LogTraceId at_sub = current_log_trace_id();
      EXPECT_EQ(at_sub.trace_id(), kRoot);
      EXPECT_EQ(at_sub.entity_id(), sub.context().entity_id());
      EXPECT_NE(at_sub.entity_id(), at_segment.entity_id());
    }
    EXPECT_EQ(current_log_trace_id().formatted(), at_segment.formatted());
  }
  EXPECT_TRUE(current_log_trace_id().empty());
}

TEST_F(LogCorrelationTest, StreamsTheFormattedValueAndCopiesAsAValue) {
  configure_with();
  auto segment = recorder_.begin_segment("svc");
  const LogTraceId ids = current_log_trace_id();
  const LogTraceId copy = ids;  // views point into each object, not into a shared buffer
  std::ostringstream line;
  line << copy << " order placed";
  EXPECT_EQ(line.str(),
            segment.context().trace_id() + "@" + segment.context().entity_id() + " order placed");
  EXPECT_EQ(copy.to_string().size(), LogTraceId::kFormattedSize);
  std::ostringstream empty;
  empty << LogTraceId() << "|";
  EXPECT_EQ(empty.str(), "|");
}

TEST_F(LogCorrelationTest, UnsampledTraceIsQuietWithNoopIds) {
  configure_with();
  auto segment = recorder_.begin_segment(
      "svc", TraceHeader::parse(std::string("Root=") + kRoot + ";Sampled=0"));
  auto sub = recorder_.begin_subsegment("work");
  EXPECT_TRUE(current_log_trace_id().empty());
  EXPECT_TRUE(log_trace_id(segment.context()).empty());
}

TEST_F(LogCorrelationTest, UnsampledTraceHasItsIdsWhenNoopIdIsFalse) {
  configure_with({{"AWS_XRAY_NOOP_ID", "false"}});
  auto segment = recorder_.begin_segment(
      "svc", TraceHeader::parse(std::string("Root=") + kRoot + ";Sampled=0"));
  auto sub = recorder_.begin_subsegment("work");
  const LogTraceId ids = current_log_trace_id();
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.trace_id(), kRoot);
  EXPECT_EQ(ids.entity_id(), sub.context().entity_id());
}

TEST_F(LogCorrelationTest, AContextCarriedToAnotherThread) {
  configure_with();
  auto segment = recorder_.begin_segment("svc");
  const Context context = current_context();
  std::string there_current;
  std::string there_carried;
  std::thread worker([&] {
    there_current = current_log_trace_id().to_string();  // nothing attached on this thread
    there_carried = log_trace_id(context).to_string();
  });
  worker.join();
  EXPECT_EQ(there_current, "");
  EXPECT_EQ(there_carried, current_log_trace_id().to_string());
}

}  // namespace
}  // namespace xray
