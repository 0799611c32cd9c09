// Tests for the spdlog pattern flag (xray/spdlog.hpp): real spdlog loggers writing to a string.
#include "xray/spdlog.hpp"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "support/fake_daemon.hpp"
#include "support/test_recorder.hpp"
#include "xray/recorder.hpp"

namespace {

using xray::testing::FakeDaemon;

class SpdlogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(xray::testing::configure(recorder_, xray::testing::config_for(daemon_)).ok());
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_st>(lines_);
    logger_ = std::make_shared<spdlog::logger>("test", sink_);
  }

  std::string take() {
    std::string text = lines_.str();
    lines_.str("");
    return text;
  }

  FakeDaemon daemon_;
  xray::Recorder recorder_;
  std::ostringstream lines_;
  std::shared_ptr<spdlog::sinks::ostream_sink_st> sink_;
  std::shared_ptr<spdlog::logger> logger_;
};

TEST_F(SpdlogTest, FlagPrintsTheCurrentEntityAndNothingOutsideOne) {
  logger_->set_formatter(xray::make_spdlog_formatter("[%l] %k %v"));
  logger_->info("before");
  EXPECT_EQ(take(), "[info]  before\n");
  {
    auto segment = recorder_.begin_segment("orders");
    logger_->info("in segment");
    const xray::Context context = segment.context();
    EXPECT_EQ(take(), "[info] " + context.trace_id() + "@" + context.entity_id() + " in segment\n");
    auto query = recorder_.begin_subsegment("query");
    logger_->warn("in subsegment");
    EXPECT_EQ(take(), "[warning] " + context.trace_id() + "@" + query.context().entity_id() +
                          " in subsegment\n");
  }
  logger_->info("after");
  EXPECT_EQ(take(), "[info]  after\n");
}

TEST_F(SpdlogTest, PaddingKeepsColumnsAlignedWhenThereIsNoTrace) {
  logger_->set_formatter(xray::make_spdlog_formatter("%-52k|%v"));
  logger_->info("none");
  EXPECT_EQ(take(), std::string(52, ' ') + "|none\n");
  auto segment = recorder_.begin_segment("orders");
  logger_->info("some");
  EXPECT_EQ(take(), xray::current_log_trace_id().to_string() + "|some\n");
  logger_->set_formatter(xray::make_spdlog_formatter("%8!k|%v"));
  logger_->info("cut");
  EXPECT_EQ(take(), xray::current_log_trace_id().to_string().substr(0, 8) + "|cut\n");
}

TEST_F(SpdlogTest, AnotherFlagLetterAndAFormatterOfOurOwn) {
  logger_->set_formatter(xray::make_spdlog_formatter("%Q %v", 'Q'));
  auto segment = recorder_.begin_segment("orders");
  logger_->info("q");
  EXPECT_EQ(take(), xray::current_log_trace_id().to_string() + " q\n");
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<xray::SpdlogTraceIdFlag>('j').set_pattern("<%j>");
  logger_->set_formatter(std::move(formatter));
  logger_->info("ignored by the pattern");
  EXPECT_EQ(take(), "<" + xray::current_log_trace_id().to_string() + ">\n");
}

TEST_F(SpdlogTest, IdInTheMessageIsReadOnTheLoggingThread) {
  logger_->set_pattern("%v");
  auto segment = recorder_.begin_segment("orders");
  const std::string expected = xray::current_log_trace_id().to_string();
  logger_->info("{} paid", xray::current_log_trace_id());
  EXPECT_EQ(take(), expected + " paid\n");
  // A line formatted elsewhere (as an async logger's worker does) sees that thread's context.
  logger_->set_formatter(xray::make_spdlog_formatter("%k%v"));
  std::thread worker([this] { logger_->info("elsewhere"); });
  worker.join();
  EXPECT_EQ(take(), "elsewhere\n");
}

}  // namespace
