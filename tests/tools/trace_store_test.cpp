#include "trace_store.hpp"

#include <gtest/gtest.h>

#include <string>

namespace xray::local {
namespace {

using nlohmann::json;

std::string trace_id(int n) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "1-5759e988-%024d", n);
  return buffer;
}

json segment(int trace, const std::string& id, bool open = false) {
  json s = {{"name", "svc"}, {"id", id}, {"trace_id", trace_id(trace)}, {"start_time", 100.0 + trace}};
  if (open) s["in_progress"] = true;
  else s["end_time"] = 101.0 + trace;
  return s;
}

TEST(TraceStoreTest, CompleteDocumentReplacesInProgressAndNotTheOtherWayRound) {
  TraceStore store;
  store.add(segment(1, "aaaaaaaaaaaaaaaa", /*open=*/true), 1);
  auto trace = store.trace(trace_id(1));
  ASSERT_TRUE(trace);
  EXPECT_TRUE((*trace)["summary"]["in_progress"].get<bool>());

  store.add(segment(1, "aaaaaaaaaaaaaaaa"), 2);
  store.add(segment(1, "aaaaaaaaaaaaaaaa", /*open=*/true), 3);  // late, stale
  trace = store.trace(trace_id(1));
  EXPECT_FALSE((*trace)["summary"]["in_progress"].get<bool>());
  EXPECT_EQ((*trace)["documents"], 1);
  EXPECT_EQ((*trace)["roots"].size(), 1u);
  const StoreCounters counters = store.counters();
  EXPECT_EQ(counters.documents, 2u);
  EXPECT_EQ(counters.replaced_in_progress, 1u);
  EXPECT_EQ(counters.stale_in_progress, 1u);
  EXPECT_EQ(counters.traces, 1u);
}

TEST(TraceStoreTest, JoinsSubsegmentsSentOnTheirOwn) {
  TraceStore store;
  json sub = {{"name", "db"}, {"id", "bbbbbbbbbbbbbbbb"}, {"trace_id", trace_id(2)},
              {"type", "subsegment"}, {"parent_id", "aaaaaaaaaaaaaaaa"}, {"start_time", 102.1},
              {"end_time", 102.2}};
  store.add(sub, 1);  // before its segment
  store.add(segment(2, "aaaaaaaaaaaaaaaa"), 2);
  const auto trace = store.trace(trace_id(2));
  ASSERT_TRUE(trace);
  ASSERT_EQ((*trace)["roots"].size(), 1u);
  EXPECT_EQ((*trace)["roots"][0]["subsegments"][0]["name"], "db");
  EXPECT_EQ(store.counters().independent_subsegments, 1u);
}

TEST(TraceStoreTest, EvictsTheOldestTracesBeyondTheCount) {
  TraceStore store(StoreLimits{3, std::size_t{1} << 30});
  for (int i = 0; i < 5; ++i) store.add(segment(i, "aaaaaaaaaaaaaaaa"), i);
  // A document for a held trace does not make it younger: first received, first evicted.
  store.add(segment(2, "cccccccccccccccc"), 6);
  EXPECT_FALSE(store.trace(trace_id(0)));
  EXPECT_FALSE(store.trace(trace_id(1)));
  EXPECT_TRUE(store.trace(trace_id(2)));
  EXPECT_TRUE(store.trace(trace_id(4)));
  const StoreCounters counters = store.counters();
  EXPECT_EQ(counters.traces, 3u);
  EXPECT_EQ(counters.evicted_traces, 2u);
  EXPECT_EQ(counters.evicted_documents, 2u);
}

TEST(TraceStoreTest, EvictsBeyondTheByteBoundAndAccountsForWhatItHolds) {
  TraceStore unbounded;
  json big = segment(0, "aaaaaaaaaaaaaaaa");
  big["metadata"] = {{"default", {{"blob", std::string(10000, 'x')}}}};
  unbounded.add(big, 0);
  const std::size_t one = unbounded.counters().bytes;
  EXPECT_GT(one, 10000u);
  EXPECT_LT(one, 12000u);

  TraceStore store(StoreLimits{1000, one * 3 + one / 2});
  for (int i = 0; i < 10; ++i) {
    json doc = big;
    doc["trace_id"] = trace_id(i);
    store.add(doc, i);
  }
  const StoreCounters counters = store.counters();
  EXPECT_EQ(counters.traces, 3u);
  EXPECT_EQ(counters.evicted_traces, 7u);
  EXPECT_LE(counters.bytes, one * 3 + one / 2);
  EXPECT_TRUE(store.trace(trace_id(9)));
}

TEST(TraceStoreTest, IgnoresDocumentsWithoutIds) {
  TraceStore store;
  store.add(json{{"name", "x"}}, 0);
  store.add(json::array(), 0);
  store.add(json{{"id", 5}, {"trace_id", "t"}}, 0);
  EXPECT_EQ(store.counters().documents, 0u);
}

TEST(TraceStoreTest, ForEachSeesEachTraceWithItsSummaryAndGraph) {
  TraceStore store;
  store.add(segment(1, "aaaaaaaaaaaaaaaa"), 1);
  store.add(segment(2, "bbbbbbbbbbbbbbbb"), 2);
  int seen = 0;
  store.for_each([&](const TraceStore::View& view) {
    ++seen;
    EXPECT_EQ(view.summary.json["id"], view.id);
    EXPECT_EQ(view.graph.nodes.count("service:svc|"), 1u);
    return true;
  });
  EXPECT_EQ(seen, 2);
}

TEST(ApproximateBytesTest, GrowsWithContent) {
  EXPECT_LT(approximate_bytes(json(1)), approximate_bytes(json("a long string that needs a heap buffer")));
  EXPECT_LT(approximate_bytes(json::array({1})), approximate_bytes(json::array({1, 2, 3, 4})));
  EXPECT_GE(approximate_bytes(json{{"k", std::string(1000, 'v')}}), 1000u);
}

}  // namespace
}  // namespace xray::local
