#include "emitter/size_ladder.hpp"

#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_daemon.hpp"
#include "support/test_recorder.hpp"
#include "xray/recorder.hpp"

namespace xray {
namespace {

using ::testing::IsEmpty;
using json = nlohmann::json;

constexpr std::size_t kLimit = 65000;
constexpr auto kWait = std::chrono::seconds(20);

bool load_tests_enabled() {
  const char* variant = std::getenv("XRAY_TEST_VARIANT");
  std::string value = variant ? variant : "";
  return value != "asan" && value != "tsan";
}

// A string of `bytes` ASCII characters: serializes to bytes + 2.
std::string payload(std::size_t bytes, char fill = 'x') { return std::string(bytes, fill); }

class SizeLadderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Config config = testing::config_for(daemon_);
    config.streaming_threshold = 1000000;  // the whole tree reaches the emitter in one piece
    config.streaming_threshold_bytes = 100'000'000;
    config.collect_sql_queries = true;
    config.log_sink = log_.sink();
    config.queue_capacity = 16384;
    ASSERT_TRUE(testing::configure(recorder_, config).ok());
  }
  void TearDown() override { EXPECT_THAT(daemon_.errors(), IsEmpty()); }

  std::vector<json> receive(std::size_t documents) {
    EXPECT_TRUE(recorder_.flush(kWait));
    EXPECT_TRUE(daemon_.wait_for_documents(documents, kWait));
    for (const auto& received : daemon_.received()) EXPECT_LE(received.datagram_bytes, kLimit);
    return daemon_.documents();
  }

  testing::FakeDaemon daemon_;
  testing::CapturedLog log_;
  Recorder recorder_;
};

const json* find_document(const std::vector<json>& documents, const std::string& name) {
  for (const auto& document : documents) {
    if (document.value("name", "") == name) return &document;
  }
  return nullptr;
}

TEST_F(SizeLadderTest, ASeventyKilobyteSegmentLosesItsLargestChildFirst) {
  std::string segment_id;
  {
    SegmentScope segment = recorder_.begin_segment("big-segment");
    segment_id = segment.id();
    const std::map<std::string, std::size_t> sizes = {
        {"c5", 5000}, {"c10", 10000}, {"c20", 20000}, {"c15", 15000}, {"c18", 18000}};
    for (const auto& [name, bytes] : sizes) {
      SubsegmentScope child = recorder_.begin_subsegment(name, segment.context());
      child.put_metadata("payload", payload(bytes));
    }
  }
  auto documents = receive(2);
  ASSERT_EQ(documents.size(), 2u);
  const json* segment = find_document(documents, "big-segment");
  const json* detached = find_document(documents, "c20");
  ASSERT_NE(segment, nullptr);
  ASSERT_NE(detached, nullptr);
  EXPECT_EQ(segment->at("subsegments").size(), 4u);
  EXPECT_EQ(detached->at("type"), "subsegment");
  EXPECT_EQ(detached->at("parent_id"), segment_id);
  EXPECT_EQ(detached->at("trace_id"), segment->at("trace_id"));
  Stats stats = recorder_.stats();
  EXPECT_EQ(stats.streamed, 1u);
  EXPECT_EQ(stats.emitted, 1u);  // one document handed over, sent as two datagrams
  EXPECT_EQ(stats.datagrams_sent, 2u);
  EXPECT_EQ(stats.truncated, 0u);
}

TEST_F(SizeLadderTest, AHundredKilobyteMetadataValueIsTruncatedAndDelivered) {
  std::string child_id;
  {
    SegmentScope segment = recorder_.begin_segment("segment");
    SubsegmentScope child = recorder_.begin_subsegment("heavy", segment.context());
    child_id = child.id();
    child.put_metadata("small", "kept");
    child.put_metadata("blob", payload(100000));
  }
  auto documents = receive(2);
  const json* heavy = find_document(documents, "heavy");
  ASSERT_NE(heavy, nullptr);
  EXPECT_EQ(heavy->at("id"), child_id);
  EXPECT_EQ(heavy->at("metadata").at("default").at("blob"), "[truncated: 100002 bytes]");
  EXPECT_EQ(heavy->at("metadata").at("default").at("small"), "kept");
  Stats stats = recorder_.stats();
  EXPECT_EQ(stats.truncated, 1u);
  EXPECT_EQ(stats.streamed, 1u);
  EXPECT_EQ(stats.dropped_too_large, 0u);
}

TEST_F(SizeLadderTest, AnOversizeSqlQueryIsCutAtACharacterBoundary) {
  {
    SegmentScope segment = recorder_.begin_segment("segment");
    SubsegmentScope query = recorder_.begin_subsegment("db", segment.context());
    SqlInfo sql;
    sql.database_type = "PostgreSQL";
    std::string text;
    while (text.size() < 80000) text += "SELECT \xc3\xa9t\xc3\xa9 ";  // two-byte characters
    sql.sanitized_query = text;
    query.set_sql(sql);
  }
  auto documents = receive(2);
  const json* db = find_document(documents, "db");
  ASSERT_NE(db, nullptr);
  std::string cut = db->at("sql").at("sanitized_query");
  EXPECT_THAT(cut, ::testing::EndsWith("...[truncated]"));
  EXPECT_EQ(cut.find("\xef\xbf\xbd"), std::string::npos);  // no U+FFFD: cut between characters
  EXPECT_GT(cut.size(), 60000u);
  EXPECT_EQ(recorder_.stats().truncated, 1u);
}

TEST_F(SizeLadderTest, AnEntityThatCannotFitIsDroppedCountedAndLogged) {
  std::string kept_id;
  {
    SegmentScope segment = recorder_.begin_segment("segment");
    SubsegmentScope big = recorder_.begin_subsegment("huge-annotation", segment.context());
    big.put_annotation("blob", payload(100000));
    SubsegmentScope small = recorder_.begin_subsegment("small", segment.context());
    kept_id = small.id();
  }
  auto documents = receive(1);
  ASSERT_TRUE(recorder_.flush(kWait));
  Stats stats = recorder_.stats();
  EXPECT_EQ(stats.dropped_too_large, 1u);
  EXPECT_EQ(stats.streamed, 1u);
  ASSERT_EQ(daemon_.documents().size(), 1u);
  const json segment = daemon_.documents().front();
  ASSERT_EQ(segment.at("subsegments").size(), 1u);
  EXPECT_EQ(segment.at("subsegments")[0].at("id"), kept_id);
  // GoogleTest's POSIX regex, not std::regex: g++ 12 -O1 with ASan reports a false
  // -Wmaybe-uninitialized inside std::regex, which -Werror makes a build failure.
  EXPECT_THAT(log_.lines(),
              ::testing::Contains(::testing::ContainsRegex(
                  "dropped subsegment name=\"huge-annotation\" id=[0-9a-f]{16} "
                  "trace_id=1-[0-9a-f]{8}-[0-9a-f]{24}: [0-9]+ bytes exceeds max datagram 65000 "
                  "bytes")));
}

// Random trees (fixed seed): every datagram fits, every subsegment arrives exactly once, every
// independent subsegment hangs from an entity that exists, and all share the trace id.
void check_random_tree(SizeLadderTest* test, testing::FakeDaemon& daemon, Recorder& recorder,
                       std::size_t subsegments, unsigned seed) {
  (void)test;
  std::mt19937 random(seed);
  std::set<std::string> expected_ids;
  {
    SegmentScope segment = recorder.begin_segment("random-root");
    expected_ids.insert(segment.id());
    std::vector<Context> contexts{segment.context()};
    std::vector<SubsegmentScope> scopes;
    scopes.reserve(subsegments);
    std::uniform_int_distribution<int> percent(0, 99);
    for (std::size_t i = 0; i < subsegments; ++i) {
      std::uniform_int_distribution<std::size_t> pick(0, contexts.size() - 1);
      SubsegmentScope scope =
          recorder.begin_subsegment("node-" + std::to_string(i), contexts[pick(random)]);
      int roll = percent(random);
      std::size_t bytes = roll < 60   ? std::uniform_int_distribution<std::size_t>(0, 200)(random)
                          : roll < 97 ? std::uniform_int_distribution<std::size_t>(200, 4000)(random)
                                      : std::uniform_int_distribution<std::size_t>(20000, 90000)(random);
      if (bytes > 0) scope.put_metadata("payload", payload(bytes));
      expected_ids.insert(scope.id());
      contexts.push_back(scope.context());
      scopes.push_back(std::move(scope));
    }
    // Children end before their parents: reverse creation order.
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it) it->end();
  }
  ASSERT_TRUE(recorder.flush(std::chrono::seconds(60)));
  Stats stats = recorder.stats();
  EXPECT_EQ(stats.dropped_too_large, 0u);
  EXPECT_EQ(stats.send_errors, 0u);
  ASSERT_TRUE(daemon.wait_for_documents(stats.datagrams_sent, std::chrono::seconds(30)));
  for (const auto& received : daemon.received()) EXPECT_LE(received.datagram_bytes, kLimit);

  auto documents = daemon.documents();
  EXPECT_EQ(documents.size(), stats.datagrams_sent);
  EXPECT_EQ(documents.size(), stats.streamed + 1);
  auto entities = testing::flatten(documents);
  std::multiset<std::string> seen;
  for (const auto& entity : entities) seen.insert(entity.at("id").get<std::string>());
  EXPECT_EQ(seen.size(), expected_ids.size());
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), expected_ids);
  const json trace_id = documents.front().at("trace_id");
  for (const auto& document : documents) {
    EXPECT_EQ(document.at("trace_id"), trace_id);
    if (document.value("type", "") == "subsegment") {
      EXPECT_EQ(expected_ids.count(document.at("parent_id").get<std::string>()), 1u);
    }
  }
}

TEST_F(SizeLadderTest, RandomTreesOfTwoThousandSubsegments) {
  check_random_tree(this, daemon_, recorder_, 2000, 20261128);
}

TEST_F(SizeLadderTest, RandomTreesOfTenThousandSubsegments) {
  if (!load_tests_enabled()) GTEST_SKIP() << "load-shaped: plain build only";
  check_random_tree(this, daemon_, recorder_, 10000, 7);
}

}  // namespace
}  // namespace xray
