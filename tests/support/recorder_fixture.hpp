// Test fixture: a Recorder configured to send everything to a FakeDaemon, and the one document a
// test expects from it. Checks at tear-down that every datagram the daemon got was valid.
//
//   class MyTest : public xray::testing::RecorderFixture {};
//   TEST_F(MyTest, X) { { auto s = recorder_.begin_segment("a"); } EXPECT_EQ(only_document()["name"], "a"); }
#pragma once

#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fake_daemon.hpp"
#include "support/test_recorder.hpp"
#include "xray/recorder.hpp"

namespace xray::testing {

class RecorderFixture : public ::testing::Test {
 protected:
  static constexpr auto kWait = std::chrono::seconds(5);

  void SetUp() override { ASSERT_TRUE(configure(recorder_, config_for(daemon_)).ok()); }
  void TearDown() override { EXPECT_THAT(daemon_.errors(), ::testing::IsEmpty()); }

  // Flushes and returns the one document the daemon received (a test failure otherwise).
  nlohmann::json only_document() {
    EXPECT_TRUE(recorder_.flush(kWait));
    EXPECT_TRUE(daemon_.wait_for_documents(1, kWait));
    auto documents = daemon_.documents();
    EXPECT_EQ(documents.size(), 1u);
    return documents.empty() ? nlohmann::json() : documents.front();
  }

  FakeDaemon daemon_;
  Recorder recorder_;
};

}  // namespace xray::testing
