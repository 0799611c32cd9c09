#include "trace_assembly.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace xray::local {
namespace {

using nlohmann::json;

const char* kTrace = "1-5759e988-bd862e3fe1be46a994272793";

json segment(const std::string& id, double start, json subsegments = json::array()) {
  json s = {{"name", "svc"}, {"id", id}, {"trace_id", kTrace}, {"start_time", start},
            {"end_time", start + 1}};
  if (!subsegments.empty()) s["subsegments"] = std::move(subsegments);
  return s;
}

json sub(const std::string& id, double start) {
  return {{"name", "sub-" + id}, {"id", id}, {"start_time", start}, {"end_time", start + 0.5}};
}

json independent(const std::string& id, const std::string& parent, double start) {
  json s = sub(id, start);
  s["type"] = "subsegment";
  s["trace_id"] = kTrace;
  s["parent_id"] = parent;
  return s;
}

json assemble_all(const std::vector<json>& documents) {
  std::vector<const json*> pointers;
  for (const json& d : documents) pointers.push_back(&d);
  return assemble(pointers);
}

std::vector<std::string> child_ids(const json& entity) {
  std::vector<std::string> ids;
  for (const json& child : entity.value("subsegments", json::array())) ids.push_back(child["id"]);
  return ids;
}

TEST(TraceAssemblyTest, JoinsIndependentSubsegmentsWhicheverArrivesFirst) {
  const json seg = segment("aaaaaaaaaaaaaaaa", 10, json::array({sub("b000000000000001", 10.1)}));
  const json late = independent("c000000000000002", "aaaaaaaaaaaaaaaa", 10.2);
  const json nested = independent("d000000000000003", "b000000000000001", 10.15);
  for (const auto& order : {std::vector<json>{seg, late, nested}, std::vector<json>{nested, late, seg},
                            std::vector<json>{late, seg, nested}}) {
    const json roots = assemble_all(order);
    ASSERT_EQ(roots.size(), 1u) << roots.dump();
    EXPECT_EQ(roots[0]["id"], "aaaaaaaaaaaaaaaa");
    EXPECT_EQ(child_ids(roots[0]), (std::vector<std::string>{"b000000000000001", "c000000000000002"}));
    EXPECT_EQ(child_ids(roots[0]["subsegments"][0]), std::vector<std::string>{"d000000000000003"});
  }
}

TEST(TraceAssemblyTest, ChainsOfIndependentSubsegments) {
  // c's parent b is itself independent, and arrives after c.
  const json roots = assemble_all({independent("c000000000000003", "b000000000000002", 10.3),
                                   independent("b000000000000002", "aaaaaaaaaaaaaaaa", 10.2),
                                   segment("aaaaaaaaaaaaaaaa", 10)});
  ASSERT_EQ(roots.size(), 1u);
  EXPECT_EQ(roots[0]["subsegments"][0]["subsegments"][0]["id"], "c000000000000003");
}

TEST(TraceAssemblyTest, CompleteSubsegmentReplacesItsEmbeddedInProgressVersion) {
  json open = sub("b000000000000001", 10.1);
  open.erase("end_time");
  open["in_progress"] = true;
  open["subsegments"] = json::array({sub("e000000000000005", 10.11)});
  const json complete = independent("b000000000000001", "aaaaaaaaaaaaaaaa", 10.1);
  const json roots = assemble_all({segment("aaaaaaaaaaaaaaaa", 10, json::array({open})), complete});
  ASSERT_EQ(roots[0]["subsegments"].size(), 1u) << roots.dump();
  const json& b = roots[0]["subsegments"][0];
  EXPECT_FALSE(in_progress(b));
  EXPECT_EQ(b["end_time"], 10.6);
  // The embedded version's child is kept.
  EXPECT_EQ(child_ids(b), std::vector<std::string>{"e000000000000005"});
}

TEST(TraceAssemblyTest, InProgressVersionNeverReplacesACompleteOne) {
  json stale = independent("b000000000000001", "aaaaaaaaaaaaaaaa", 10.1);
  stale.erase("end_time");
  stale["in_progress"] = true;
  const json roots = assemble_all(
      {segment("aaaaaaaaaaaaaaaa", 10, json::array({sub("b000000000000001", 10.1)})), stale});
  ASSERT_EQ(roots[0]["subsegments"].size(), 1u);
  EXPECT_FALSE(in_progress(roots[0]["subsegments"][0]));
}

TEST(TraceAssemblyTest, OrphansAndCyclesStayAtTheTopLevel) {
  const json roots = assemble_all({segment("aaaaaaaaaaaaaaaa", 10),
                                   independent("f000000000000006", "0000000000000bad", 10.5),
                                   independent("1000000000000001", "2000000000000002", 11),
                                   independent("2000000000000002", "1000000000000001", 11)});
  ASSERT_EQ(roots.size(), 3u) << roots.dump();
  EXPECT_EQ(roots[0]["id"], "aaaaaaaaaaaaaaaa");  // segments first
  EXPECT_FALSE(roots[0].contains("subsegments"));
  std::vector<std::string> top;
  for (const json& r : roots) top.push_back(r["id"]);
  EXPECT_NE(std::find(top.begin(), top.end(), "f000000000000006"), top.end());
}

TEST(TraceAssemblyTest, OrdersSegmentsAndChildrenByStartTime) {
  const json roots = assemble_all(
      {segment("bbbbbbbbbbbbbbbb", 20), segment("aaaaaaaaaaaaaaaa", 10,
                                                json::array({sub("2000000000000002", 10.5),
                                                             sub("1000000000000001", 10.2)}))});
  EXPECT_EQ(roots[0]["id"], "aaaaaaaaaaaaaaaa");
  EXPECT_EQ(child_ids(roots[0]), (std::vector<std::string>{"1000000000000001", "2000000000000002"}));
}

TEST(TraceAssemblyTest, OddFieldTypesAreNotThrownOn) {
  json odd = segment("aaaaaaaaaaaaaaaa", 10);
  odd["subsegments"] = json::array({42, "x", json::object({{"id", 7}})});
  odd["start_time"] = "yesterday";
  json orphan = independent("c000000000000003", "aaaaaaaaaaaaaaaa", 1);
  orphan["parent_id"] = 12;
  EXPECT_NO_THROW(assemble_all({odd, orphan}));
  EXPECT_EQ(assemble_all({odd, orphan}).size(), 2u);
}

}  // namespace
}  // namespace xray::local
