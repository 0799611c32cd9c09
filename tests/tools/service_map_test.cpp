#include "service_map.hpp"

#include <gtest/gtest.h>

namespace xray::local {
namespace {

using nlohmann::json;

// Upstream segment with a remote call to the downstream service (traced: its segment has the
// remote subsegment as parent), a DynamoDB call and a call to an untraced host.
json one_trace(bool fault, double call_seconds) {
  json remote = {{"name", "127.0.0.1"}, {"id", "1000000000000001"}, {"namespace", "remote"},
                 {"start_time", 10.0}, {"end_time", 10.0 + call_seconds},
                 {"http", {{"request", {{"url", "http://127.0.0.1:9000/helloworld"}}}}}};
  if (fault) remote["fault"] = true;
  json dynamo = {{"name", "DynamoDB"}, {"id", "2000000000000002"}, {"namespace", "aws"},
                 {"start_time", 10.0}, {"end_time", 10.01}, {"throttle", true}, {"error", true}};
  json external = {{"name", "api"}, {"id", "3000000000000003"}, {"namespace", "remote"},
                   {"start_time", 10.0}, {"end_time", 10.02},
                   {"http", {{"request", {{"url", "https://user@api.example.com:8443/v1?x=1"}}}}}};
  // A plain local subsegment wrapping the call: the edge still starts at the service.
  json local = {{"name", "handler"}, {"id", "4000000000000004"}, {"start_time", 10.0},
                {"end_time", 10.5}, {"subsegments", json::array({remote})}};
  json upstream = {{"name", "upstream"}, {"id", "aaaaaaaaaaaaaaaa"}, {"origin", "AWS::EC2::Instance"},
                   {"start_time", 10.0}, {"end_time", 11.0},
                   {"subsegments", json::array({local, dynamo, external})}};
  if (fault) upstream["fault"] = true;
  json downstream = {{"name", "downstream"}, {"id", "bbbbbbbbbbbbbbbb"},
                     {"parent_id", "1000000000000001"}, {"start_time", 10.1}, {"end_time", 10.2}};
  if (fault) downstream["fault"] = true;
  return json::array({upstream, downstream});
}

const json* find(const json& list, const std::string& id) {
  for (const json& item : list) {
    if (item["id"] == id) return &item;
  }
  return nullptr;
}

TEST(ServiceMapTest, OneTraceGivesClientServicesHostsAndAwsNodes) {
  const TraceGraph graph = trace_graph(one_trace(false, 0.2));
  EXPECT_EQ(graph.nodes.size(), 5u);
  EXPECT_EQ(graph.nodes.at("service:upstream|AWS::EC2::Instance").type, "AWS::EC2::Instance");
  EXPECT_EQ(graph.nodes.at("aws:DynamoDB").kind, "aws");
  EXPECT_EQ(graph.nodes.at("remote:api.example.com:8443").name, "api.example.com:8443");
  EXPECT_EQ(graph.nodes.count("client"), 1u);
  EXPECT_EQ(graph.edges.count("client -> service:upstream|AWS::EC2::Instance"), 1u);
  EXPECT_EQ(graph.edges.count("service:upstream|AWS::EC2::Instance -> service:downstream|"), 1u);
  // The downstream segment has a parent in the trace: it is not an entry point.
  EXPECT_EQ(graph.edges.count("client -> service:downstream|"), 0u);
  // The traced downstream replaces the host node of its caller's remote subsegment.
  EXPECT_EQ(graph.nodes.count("remote:127.0.0.1:9000"), 0u);
}

TEST(ServiceMapTest, EdgesCountCallsAndAverageTheirLatencyAndShares) {
  const TraceGraph a = trace_graph(one_trace(false, 0.2));
  const TraceGraph b = trace_graph(one_trace(true, 0.4));
  const TraceGraph c = trace_graph(one_trace(false, 0.3));
  const json map = service_map({&a, &b, &c});
  const json* call = find(map["edges"], "service:upstream|AWS::EC2::Instance -> service:downstream|");
  ASSERT_NE(call, nullptr) << map.dump(2);
  EXPECT_EQ((*call)["count"], 3);
  EXPECT_NEAR((*call)["average_ms"].get<double>(), 300.0, 1e-6);
  EXPECT_NEAR((*call)["fault_share"].get<double>(), 1.0 / 3, 1e-9);
  EXPECT_EQ((*call)["health"], "fault");

  const json* entry = find(map["edges"], "client -> service:upstream|AWS::EC2::Instance");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ((*entry)["count"], 3);
  EXPECT_NEAR((*entry)["average_ms"].get<double>(), 1000.0, 1e-6);

  const json* dynamo = find(map["edges"], "service:upstream|AWS::EC2::Instance -> aws:DynamoDB");
  ASSERT_NE(dynamo, nullptr);
  EXPECT_EQ((*dynamo)["throttles"], 3);
  EXPECT_EQ((*dynamo)["errors"], 0);  // a throttle is counted once, as a throttle
  EXPECT_EQ((*dynamo)["throttle_share"], 1.0);

  const json* down = find(map["nodes"], "service:downstream|");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ((*down)["count"], 3);
  EXPECT_EQ((*down)["faults"], 1);
  EXPECT_EQ((*down)["health"], "fault");
  EXPECT_NEAR((*down)["average_ms"].get<double>(), 100.0, 1e-6);
  // A node without segments of its own is judged by the calls made to it.
  const json* aws = find(map["nodes"], "aws:DynamoDB");
  ASSERT_NE(aws, nullptr);
  EXPECT_EQ((*aws)["count"], 3);
  EXPECT_EQ((*aws)["health"], "throttle");
}

TEST(ServiceMapTest, UntracedCallerMakesTheSegmentAnEntryPoint) {
  // Parent from an X-Amzn-Trace-Id header whose caller sent nothing to this daemon.
  const json roots = json::array({{{"name", "svc"}, {"id", "aaaaaaaaaaaaaaaa"},
                                   {"parent_id", "53995c3f42cd8ad8"}, {"start_time", 1.0},
                                   {"end_time", 2.0}}});
  const TraceGraph graph = trace_graph(roots);
  EXPECT_EQ(graph.edges.count("client -> service:svc|"), 1u);
}

TEST(ServiceMapTest, OddDocumentsAreSkipped) {
  const json roots = json::array({42, {{"name", 7}, {"subsegments", "x"}}, json::array()});
  EXPECT_NO_THROW(trace_graph(roots));
  EXPECT_NO_THROW(service_map({nullptr}));
  EXPECT_TRUE(service_map({})["nodes"].empty());
}

}  // namespace
}  // namespace xray::local
