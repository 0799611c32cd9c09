// Spec §6.1: subsegments still open long after their segment ended, and the optional in-progress
// document for long requests. (Unit: the delayed work in recorder_core.cpp / housekeeper.hpp.)
#include "recorder/housekeeper.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "support/fake_daemon.hpp"
#include "support/test_recorder.hpp"

namespace xray {
namespace {

using json = nlohmann::json;
using testing::find_by_name;
using testing::flatten;
constexpr auto kWait = std::chrono::seconds(5);

class AbandonedSubsegmentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Config config = testing::config_for(daemon_);
    config.abandoned_subsegment_timeout = std::chrono::milliseconds(50);
    ASSERT_TRUE(testing::configure(recorder_, config).ok());
  }
  void TearDown() override { EXPECT_THAT(daemon_.errors(), ::testing::IsEmpty()); }

  testing::FakeDaemon daemon_;
  Recorder recorder_;
};

TEST_F(AbandonedSubsegmentsTest, SegmentIsSentWithOpenSubsegmentsInProgressThenEachCompletion) {
  auto segment = recorder_.begin_segment("S");
  std::string s_id = segment.id();
  auto x = recorder_.begin_subsegment("X", segment.context());
  std::string x_id = x.id();
  { auto z = recorder_.begin_subsegment("Z", x.context()); }
  auto w = recorder_.begin_subsegment("W", x.context());
  segment.end();

  // After the timeout the segment goes out: X and W in progress, Z (complete) embedded.
  ASSERT_TRUE(daemon_.wait_for_documents(1, kWait));
  auto first = daemon_.documents();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]["name"], "S");
  EXPECT_TRUE(first[0].contains("end_time"));
  auto entities = flatten(first);
  const json* x_doc = find_by_name(entities, "X");
  const json* w_doc = find_by_name(entities, "W");
  const json* z_doc = find_by_name(entities, "Z");
  ASSERT_TRUE(x_doc && w_doc && z_doc);
  EXPECT_EQ((*x_doc)["in_progress"], true);
  EXPECT_EQ((*w_doc)["in_progress"], true);
  EXPECT_TRUE(z_doc->contains("end_time"));

  w.end();  // X is still open: nothing yet
  x.end();  // X complete: sent on its own with W, without Z (already sent)
  ASSERT_TRUE(recorder_.flush(kWait));
  ASSERT_TRUE(daemon_.wait_for_documents(2, kWait));
  auto documents = daemon_.documents();
  ASSERT_EQ(documents.size(), 2u);
  const json& late = documents[1];
  EXPECT_EQ(late["name"], "X");
  EXPECT_EQ(late["id"], x_id);
  EXPECT_EQ(late["type"], "subsegment");
  EXPECT_EQ(late["parent_id"], s_id);
  EXPECT_FALSE(late.contains("in_progress"));
  ASSERT_EQ(late["subsegments"].size(), 1u);
  EXPECT_EQ(late["subsegments"][0]["name"], "W");
  EXPECT_TRUE(late["subsegments"][0].contains("end_time"));
}

// Found by document_fuzz: an ended subsegment B between an open parent A and an open child C is
// sent complete with the abandoned segment. When C ends, C alone goes out (B is final already),
// and when A ends, A alone: every entity is sent complete exactly once.
TEST_F(AbandonedSubsegmentsTest, EndedSubsegmentBetweenOpenOnesIsSentCompleteOnce) {
  auto segment = recorder_.begin_segment("S");
  auto a = recorder_.begin_subsegment("A", segment.context());
  auto b = recorder_.begin_subsegment("B", a.context());
  const std::string s_id = segment.id();
  segment.end();
  auto c = recorder_.begin_subsegment("C", b.context());
  const std::string a_id = a.id(), b_id = b.id(), c_id = c.id();
  b.end();
  ASSERT_TRUE(daemon_.wait_for_documents(1, kWait));

  c.end();
  ASSERT_TRUE(recorder_.flush(kWait));
  ASSERT_TRUE(daemon_.wait_for_documents(2, kWait));
  a.end();
  ASSERT_TRUE(recorder_.flush(kWait));
  ASSERT_TRUE(daemon_.wait_for_documents(3, kWait));
  auto documents = daemon_.documents();
  ASSERT_EQ(documents.size(), 3u);
  std::map<std::string, int> complete_sends;
  for (const json& entity : flatten(documents)) {
    if (!entity.contains("in_progress")) ++complete_sends[entity["id"].get<std::string>()];
  }
  EXPECT_THAT(complete_sends, ::testing::UnorderedElementsAre(
                                  ::testing::Pair(s_id, 1), ::testing::Pair(a_id, 1),
                                  ::testing::Pair(b_id, 1), ::testing::Pair(c_id, 1)));
  EXPECT_EQ(documents[1]["id"], c_id);
  EXPECT_EQ(documents[1]["parent_id"], b_id);
  EXPECT_EQ(documents[2]["id"], a_id);
  EXPECT_EQ(documents[2]["parent_id"], s_id);
  EXPECT_FALSE(documents[2].contains("subsegments"));
}

TEST_F(AbandonedSubsegmentsTest, NothingIsScheduledWhenSubsegmentsEndInTime) {
  Config config = testing::config_for(daemon_);
  config.abandoned_subsegment_timeout = std::chrono::seconds(30);  // far beyond this test
  ASSERT_TRUE(testing::configure(recorder_, config).ok());
  {
    auto segment = recorder_.begin_segment("S");
    auto x = recorder_.begin_subsegment("X", segment.context());
    segment.end();
    x.end();  // before the timeout: the segment completes normally
  }
  ASSERT_TRUE(recorder_.flush(kWait));
  ASSERT_TRUE(daemon_.wait_for_documents(1, kWait));
  auto documents = daemon_.documents();
  ASSERT_EQ(documents.size(), 1u);
  EXPECT_EQ(documents[0]["subsegments"][0]["name"], "X");
  EXPECT_FALSE(documents[0]["subsegments"][0].contains("in_progress"));
}

TEST(InProgressTest, LongRequestIsSentOnceInProgressThenComplete) {
  testing::FakeDaemon daemon;
  Recorder recorder;
  Config config = testing::config_for(daemon);
  config.in_progress_after = std::chrono::milliseconds(20);
  ASSERT_TRUE(testing::configure(recorder, config).ok());
  auto segment = recorder.begin_segment("long");
  { auto done = recorder.begin_subsegment("done"); }
  ASSERT_TRUE(daemon.wait_for_documents(1, kWait));
  segment.end();
  ASSERT_TRUE(recorder.flush(kWait));
  ASSERT_TRUE(daemon.wait_for_documents(2, kWait));
  auto documents = daemon.documents();
  ASSERT_EQ(documents.size(), 2u);
  EXPECT_EQ(documents[0]["in_progress"], true);
  EXPECT_FALSE(documents[0].contains("end_time"));
  EXPECT_FALSE(documents[0].contains("subsegments"));
  EXPECT_EQ(documents[1]["id"], documents[0]["id"]);
  EXPECT_TRUE(documents[1].contains("end_time"));
  EXPECT_EQ(documents[1]["subsegments"][0]["name"], "done");
  EXPECT_THAT(daemon.errors(), ::testing::IsEmpty());
}

TEST(HousekeeperTest, RunsDueTasksInOrderAndDropsPendingOnShutdown) {
  detail::Housekeeper housekeeper;
  std::vector<int> ran;
  auto now = detail::Housekeeper::Clock::now();
  auto far = now + std::chrono::hours(1);
  housekeeper.schedule(far + std::chrono::seconds(2), [&] { ran.push_back(2); });
  housekeeper.schedule(far + std::chrono::seconds(1), [&] { ran.push_back(1); });
  housekeeper.schedule(far + std::chrono::hours(1), [&] { ran.push_back(3); });
  housekeeper.run_due(far + std::chrono::seconds(5));
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
  housekeeper.shutdown();
  housekeeper.schedule(now, [&] { ran.push_back(4); });  // ignored after shutdown
  housekeeper.run_due(far + std::chrono::hours(2));
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
}

}  // namespace
}  // namespace xray
