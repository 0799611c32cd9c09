#include "sampling_proxy.hpp"

#include <gtest/gtest.h>

namespace xray::local {
namespace {

using nlohmann::json;

const char* kRule = R"({"RuleName":"orders","Priority":1,"FixedRate":0.25,"ReservoirSize":7,
  "ServiceName":"*","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"/orders*","Version":1,
  "ResourceARN":"*"})";

TEST(SamplingProxyTest, LoadsABareArrayAndTheGetSamplingRulesOutput) {
  std::string error;
  auto bare = SamplingProxy::load_rules(std::string("[") + kRule + "]", &error);
  ASSERT_TRUE(bare) << error;
  auto records = SamplingProxy::load_rules(
      std::string(R"({"SamplingRuleRecords":[{"SamplingRule":)") + kRule +
          R"(,"CreatedAt":0,"ModifiedAt":1}],"NextToken":null})",
      &error);
  ASSERT_TRUE(records) << error;
  EXPECT_EQ(*bare, *records);
  EXPECT_EQ((*bare)[0]["RuleName"], "orders");
}

TEST(SamplingProxyTest, RefusesOtherShapesWithAReason) {
  for (const char* text : {"", "{", R"({"rules":[]})", R"([{"Priority":1}])",
                           R"({"SamplingRuleRecords":[{"Rule":{}}]})"}) {
    std::string error;
    EXPECT_FALSE(SamplingProxy::load_rules(text, &error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(SamplingProxyTest, ServesTheDefaultRuleAsGetSamplingRulesRecords) {
  SamplingProxy proxy(SamplingProxy::default_rules());
  const auto reply = proxy.handle("/GetSamplingRules", R"({"NextToken":null})", 100);
  ASSERT_TRUE(reply);
  const json parsed = json::parse(*reply);
  ASSERT_EQ(parsed["SamplingRuleRecords"].size(), 1u);
  const json& rule = parsed["SamplingRuleRecords"][0]["SamplingRule"];
  EXPECT_EQ(rule["RuleName"], "Default");
  EXPECT_EQ(rule["ReservoirSize"], 1);
  EXPECT_EQ(rule["FixedRate"], 0.05);
  EXPECT_TRUE(parsed["NextToken"].is_null());
  EXPECT_FALSE(proxy.handle("/Other", "", 100));
}

TEST(SamplingProxyTest, GrantsTheReservoirAsQuotaAndKeepsStatistics) {
  SamplingProxy proxy(*SamplingProxy::load_rules(std::string("[") + kRule + "]", nullptr));
  const char* report = R"({"SamplingStatisticsDocuments":[
      {"RuleName":"orders","ClientID":"abcdef1234567890abcdef10","Timestamp":100,
       "RequestCount":10,"SampledCount":3,"BorrowCount":1},
      {"RuleName":"gone","ClientID":"abcdef1234567890abcdef10","Timestamp":100,
       "RequestCount":1,"SampledCount":0,"BorrowCount":0}]})";
  const json reply = json::parse(*proxy.handle("/SamplingTargets", report, 1000));
  ASSERT_EQ(reply["SamplingTargetDocuments"].size(), 1u);
  const json& target = reply["SamplingTargetDocuments"][0];
  EXPECT_EQ(target["RuleName"], "orders");
  EXPECT_EQ(target["ReservoirQuota"], 7);
  EXPECT_EQ(target["FixedRate"], 0.25);
  EXPECT_EQ(target["ReservoirQuotaTTL"], 1010.0);
  EXPECT_EQ(target["Interval"], 10);
  ASSERT_EQ(reply["UnprocessedStatistics"].size(), 1u);
  EXPECT_EQ(reply["UnprocessedStatistics"][0]["RuleName"], "gone");

  proxy.handle("/SamplingTargets", report, 1010);
  const json stats = proxy.statistics();
  EXPECT_EQ(stats["statistics"]["orders"]["requests"], 20);
  EXPECT_EQ(stats["statistics"]["orders"]["sampled"], 6);
  EXPECT_EQ(stats["statistics"]["orders"]["borrowed"], 2);
  EXPECT_EQ(stats["statistics"]["orders"]["reports"], 2);
  EXPECT_EQ(stats["target_requests"], 2);
}

TEST(SamplingProxyTest, BadBodiesGetAnAnswerWithoutTargets) {
  SamplingProxy proxy(SamplingProxy::default_rules());
  for (const char* body : {"", "not json", "[]", R"({"SamplingStatisticsDocuments":5})",
                           R"({"SamplingStatisticsDocuments":[7,{"RuleName":3}]})"}) {
    const auto reply = proxy.handle("/SamplingTargets", body, 1);
    ASSERT_TRUE(reply) << body;
    EXPECT_TRUE(json::parse(*reply)["SamplingTargetDocuments"].empty()) << body;
  }
}

}  // namespace
}  // namespace xray::local
