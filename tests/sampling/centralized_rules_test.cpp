#include "sampling/centralized_rules.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <thread>
#include <vector>

namespace xray::detail {
namespace {

using json = nlohmann::json;

json record(const std::string& name, int priority, double rate, int reservoir,
            const std::string& path = "*") {
  return {{"SamplingRule",
           {{"RuleName", name}, {"RuleARN", "arn:aws:xray:us-east-1::sampling-rule/" + name},
            {"ResourceARN", "*"}, {"Priority", priority}, {"FixedRate", rate},
            {"ReservoirSize", reservoir}, {"ServiceName", "*"}, {"ServiceType", "*"},
            {"Host", "*"}, {"HTTPMethod", "*"}, {"URLPath", path}, {"Version", 1},
            {"Attributes", json::object()}}},
          {"CreatedAt", 0.0},
          {"ModifiedAt", 1530558121.0}};
}

std::vector<CentralizedRule> parse(const json& records, std::vector<std::string>* skipped = nullptr,
                                   std::string* token = nullptr) {
  std::string error;
  json body = {{"SamplingRuleRecords", records}, {"NextToken", nullptr}};
  auto rules = parse_sampling_rules(body.dump(), token, skipped, &error);
  EXPECT_TRUE(rules.has_value()) << error;
  return rules.value_or(std::vector<CentralizedRule>{});
}

TEST(CentralizedRulesTest, ParsesTheDocumentedResponse) {
  const char* body = R"({"SamplingRuleRecords":[{"SamplingRule":{"RuleName":"Default","RuleARN":"arn:aws:xray:us-east-1::sampling-rule/Default",
  "ResourceARN":"*","Priority":10000,"FixedRate":0.05,"ReservoirSize":1,"ServiceName":"*","ServiceType":"*",
  "Host":"*","HTTPMethod":"*","URLPath":"*","Version":1,"Attributes":{}},
  "CreatedAt":0.0,"ModifiedAt":1530558121.0}],"NextToken":null})";
  std::string token = "stale";
  std::string error;
  auto rules = parse_sampling_rules(body, &token, nullptr, &error);
  ASSERT_TRUE(rules) << error;
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ((*rules)[0].name, "Default");
  EXPECT_EQ((*rules)[0].priority, 10000);
  EXPECT_EQ((*rules)[0].reservoir_size, 1u);
  EXPECT_DOUBLE_EQ((*rules)[0].fixed_rate, 0.05);
  EXPECT_EQ(token, "");
}

TEST(CentralizedRulesTest, SkipsUnusableRecordsAndKeepsTheRest) {
  json bad_version = record("v2", 1, 0.1, 1);
  bad_version["SamplingRule"]["Version"] = 2;
  json bad_arn = record("arn", 1, 0.1, 1);
  bad_arn["SamplingRule"]["ResourceARN"] = "arn:aws:ecs:*";
  json attributes = record("attrs", 1, 0.1, 1);
  attributes["SamplingRule"]["Attributes"] = {{"k", "v"}};
  json bad_rate = record("rate", 1, 1.5, 1);
  json negative = record("negative", -1, 0.1, 1);
  json fractional = record("fraction", 1, 0.1, 1);
  fractional["SamplingRule"]["ReservoirSize"] = 1.5;
  json no_path = record("nopath", 1, 0.1, 1);
  no_path["SamplingRule"].erase("URLPath");
  json empty_name = record("", 1, 0.1, 1);
  json not_string = record("typed", 1, 0.1, 1);
  not_string["SamplingRule"]["RuleName"] = 42;
  std::vector<std::string> skipped;
  auto rules = parse(json::array({bad_version, bad_arn, attributes, bad_rate, negative, fractional,
                                  no_path, empty_name, not_string, record("good", 5, 0.1, 1),
                                  json("a string")}),
                     &skipped);
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].name, "good");
  EXPECT_EQ(skipped.size(), 10u);
}

TEST(CentralizedRulesTest, InvalidBodiesAreErrors) {
  std::string error;
  EXPECT_FALSE(parse_sampling_rules("not json", nullptr, nullptr, &error));
  EXPECT_FALSE(parse_sampling_rules("[]", nullptr, nullptr, &error));
  EXPECT_FALSE(parse_sampling_rules(R"({"NextToken":null})", nullptr, nullptr, &error));
  EXPECT_FALSE(error.empty());
}

TEST(CentralizedRulesTest, ReadsNextToken) {
  std::string token;
  json body = {{"SamplingRuleRecords", json::array()}, {"NextToken", "page-2"}};
  ASSERT_TRUE(parse_sampling_rules(body.dump(), &token, nullptr, nullptr));
  EXPECT_EQ(token, "page-2");
}

TEST(CentralizedRulesTest, OrdersByPriorityThenNameWithDefaultLast) {
  RuleSet set = make_rule_set(
      parse(json::array({record("Default", 1, 0.05, 1), record("b", 10, 0.1, 1),
                         record("a", 10, 0.1, 1), record("first", 2, 0.1, 1)})),
      nullptr);
  ASSERT_EQ(set.rules.size(), 4u);
  EXPECT_EQ(set.rules[0].name, "first");
  EXPECT_EQ(set.rules[1].name, "a");
  EXPECT_EQ(set.rules[2].name, "b");
  EXPECT_EQ(set.rules[3].name, "Default");
}

TEST(CentralizedRulesTest, MatchesAllFivePatternsAndAbsentAttributes) {
  json special = record("api", 1, 0.1, 1, "/api/*");
  special["SamplingRule"]["HTTPMethod"] = "GET";
  special["SamplingRule"]["ServiceName"] = "orders";
  special["SamplingRule"]["ServiceType"] = "AWS::EC2::Instance";
  special["SamplingRule"]["Host"] = "*.example.com";
  RuleSet set = make_rule_set(parse(json::array({special, record("Default", 10000, 0.05, 1)})), nullptr);
  SamplingRequest request;
  request.url_path = "/api/orders";
  request.method = "get";
  request.service_name = "orders";
  request.service_type = "AWS::EC2::Instance";
  request.host = "shop.example.com";
  EXPECT_EQ(set.match(request)->name, "api");
  request.method = "POST";
  EXPECT_EQ(set.match(request)->name, "Default");
  SamplingRequest absent;  // no attribute: every pattern matches
  EXPECT_EQ(set.match(absent)->name, "api");
  EXPECT_EQ(RuleSet().match(absent), nullptr);
}

TEST(CentralizedRulesTest, RefreshKeepsStateOfRulesWithTheSameName) {
  RuleSet first = make_rule_set(parse(json::array({record("keep", 1, 0.1, 1), record("gone", 2, 0.1, 1)})), nullptr);
  first.rules[0].state->apply_target(0.5, 3, 2e9, 10);
  RuleSet second = make_rule_set(parse(json::array({record("keep", 1, 0.2, 1), record("new", 2, 0.1, 1)})), &first);
  EXPECT_EQ(second.rules[0].state, first.rules[0].state);
  EXPECT_EQ(second.rules[0].state->quota(), 3);
  EXPECT_DOUBLE_EQ(second.rules[0].state->fixed_rate(), 0.2);  // the record's rate until the next target
  EXPECT_EQ(second.find("gone"), nullptr);
  EXPECT_NE(second.find("new"), nullptr);
}

// Spec §7.5 derived cases: requests within one second, FixedRate 0 unless stated.
TEST(RuleStateTest, QuotaTwoWithFutureTtl) {
  RuleState state;
  state.apply_target(0.0, 2, 1530923107.0, std::nullopt);
  double now = 1530923100.2;
  EXPECT_TRUE(state.decide(now, 0.5, 5));
  EXPECT_TRUE(state.decide(now, 0.5, 5));
  EXPECT_FALSE(state.decide(now, 0.5, 5));
  auto statistics = state.take_statistics_if_due(now + 10);
  ASSERT_TRUE(statistics);
  EXPECT_EQ(statistics->requests, 3u);
  EXPECT_EQ(statistics->sampled, 2u);
  EXPECT_EQ(statistics->borrowed, 0u);
}

TEST(RuleStateTest, BorrowsOnePerSecondWithoutQuota) {
  RuleState state;
  EXPECT_TRUE(state.decide(100.1, 0.5, 5));
  EXPECT_FALSE(state.decide(100.2, 0.5, 5));
  EXPECT_FALSE(state.decide(100.9, 0.5, 5));
  EXPECT_TRUE(state.decide(101.0, 0.5, 5));  // a new second
  auto statistics = state.take_statistics_if_due(200);
  ASSERT_TRUE(statistics);
  EXPECT_EQ(statistics->borrowed, 2u);
}

TEST(RuleStateTest, ExpiredQuotaGoesBackToBorrowingThenTheRate) {
  RuleState state;
  state.apply_target(0.0, 2, 1000.0, std::nullopt);
  EXPECT_TRUE(state.decide(1001.5, 0.5, 5));   // TTL passed: borrow
  EXPECT_FALSE(state.decide(1001.6, 0.5, 5));  // then the rate (0)
}

TEST(RuleStateTest, QuotaZeroIsHonoured) {
  RuleState state;
  state.apply_target(0.0, 0, 2000.0, std::nullopt);
  EXPECT_FALSE(state.decide(1000.1, 0.5, 5));
  EXPECT_FALSE(state.decide(1000.2, 0.5, 5));
}

TEST(RuleStateTest, NoReservoirFallsToTheRate) {
  RuleState state;
  state.set_fixed_rate(1.0);
  EXPECT_TRUE(state.decide(10.1, 0.99, 0));
  EXPECT_TRUE(state.decide(10.2, 0.0, 0));
  auto statistics = state.take_statistics_if_due(100);
  ASSERT_TRUE(statistics);
  EXPECT_EQ(statistics->borrowed, 0u);
  EXPECT_EQ(statistics->sampled, 2u);
}

TEST(RuleStateTest, TtlIsReadAsEpochSeconds) {
  RuleState state;
  state.apply_target(0.0, 1, 1530923107.0, std::nullopt);
  EXPECT_TRUE(state.decide(1530923100.0, 0.9, 0));  // the quota is valid: seconds, not ms
}

TEST(RuleStateTest, StatisticsAreDueOnlyAfterTheIntervalAndOnlyWhenMatched) {
  RuleState state;
  EXPECT_FALSE(state.take_statistics_if_due(1000));  // nothing matched
  state.decide(1000, 0.5, 0);
  ASSERT_TRUE(state.take_statistics_if_due(1000));    // first report
  state.decide(1001, 0.5, 0);
  EXPECT_FALSE(state.take_statistics_if_due(1005));   // interval 10 s not over
  ASSERT_TRUE(state.take_statistics_if_due(1010));
  EXPECT_FALSE(state.take_statistics_if_due(1030));   // reset: nothing since
}

TEST(RuleStateTest, CountsFromManyThreadsAddUpWhileReportsTakeThem) {
  // The counters are striped per thread; every decision is counted in exactly one report, its
  // request and its sample in the same one (a count left behind once went unreported when the
  // last report found no request pending).
  RuleState state;
  state.set_fixed_rate(1.0);
  constexpr int kThreads = 12;  // more than the stripes: some threads share one
  constexpr int kDecisions = 20000;
  std::atomic<bool> done{false};
  RuleState::Statistics reported;
  int reports_sampling_more_than_requested = 0;  // a decision's two counts split across reports
  std::thread reporter([&] {
    double now = 1000;
    while (!done.load()) {
      now += 10;
      if (auto statistics = state.take_statistics_if_due(now)) {
        if (statistics->sampled > statistics->requests) ++reports_sampling_more_than_requested;
        reported.requests += statistics->requests;
        reported.sampled += statistics->sampled;
        reported.borrowed += statistics->borrowed;
      }
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&state] {
      for (int i = 0; i < kDecisions; ++i) state.decide(500.5, 0.5, 1);
    });
  }
  for (auto& thread : threads) thread.join();
  done = true;
  reporter.join();
  if (auto statistics = state.take_statistics_if_due(1e12)) {
    reported.requests += statistics->requests;
    reported.sampled += statistics->sampled;
    reported.borrowed += statistics->borrowed;
  }
  EXPECT_EQ(reported.requests, std::uint64_t{kThreads} * kDecisions);
  EXPECT_EQ(reported.sampled, std::uint64_t{kThreads} * kDecisions);  // rate 1
  EXPECT_EQ(reported.borrowed, 1u);  // one a second, whichever thread took it
  EXPECT_EQ(reports_sampling_more_than_requested, 0);
  EXPECT_EQ(state.statistics().requests, 0u);
}

TEST(CentralizedRulesTest, StatisticsDocumentListsDueRules) {
  RuleSet set = make_rule_set(parse(json::array({record("a", 1, 0.0, 0), record("b", 2, 0.0, 0)})), nullptr);
  EXPECT_FALSE(statistics_document(set, 1000, "abc"));
  set.rules[0].state->decide(1000.5, 0.5, 0);
  auto document = statistics_document(set, 1000.5, "0123456789abcdef01234567");
  ASSERT_TRUE(document);
  const json& entries = (*document)["SamplingStatisticsDocuments"];
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["RuleName"], "a");
  EXPECT_EQ(entries[0]["ClientID"], "0123456789abcdef01234567");
  EXPECT_EQ(entries[0]["Timestamp"], 1000);
  EXPECT_EQ(entries[0]["RequestCount"], 1);
  EXPECT_EQ(entries[0]["SampledCount"], 0);
  EXPECT_EQ(entries[0]["BorrowCount"], 0);
}

TEST(CentralizedRulesTest, AppliesTargetsKeepingAbsentFields) {
  RuleSet set = make_rule_set(parse(json::array({record("base-scorekeep", 1, 0.05, 1)})), nullptr);
  const char* body = R"({"SamplingTargetDocuments":[{"RuleName":"base-scorekeep","FixedRate":0.1,"ReservoirQuota":2,
  "ReservoirQuotaTTL":1530923107.0,"Interval":10},{"RuleName":"unknown","FixedRate":1}],
  "LastRuleModification":1530920505.0,"UnprocessedStatistics":[]})";
  std::string error;
  auto outcome = apply_sampling_targets(set, body, &error);
  ASSERT_TRUE(outcome) << error;
  EXPECT_DOUBLE_EQ(outcome->last_rule_modification, 1530920505.0);
  EXPECT_FALSE(outcome->refresh_rules);
  const auto& state = *set.rules[0].state;
  EXPECT_DOUBLE_EQ(state.fixed_rate(), 0.1);
  EXPECT_EQ(state.quota(), 2);
  EXPECT_DOUBLE_EQ(state.quota_ttl(), 1530923107.0);
  ASSERT_TRUE(apply_sampling_targets(set, R"({"SamplingTargetDocuments":[{"RuleName":"base-scorekeep","FixedRate":0.3}]})", &error));
  EXPECT_EQ(state.quota(), 2);  // absent: kept
  EXPECT_DOUBLE_EQ(state.fixed_rate(), 0.3);
}

TEST(CentralizedRulesTest, HugePrioritiesAndQuotasSaturateInsteadOfOverflowing) {
  // Fuzzer finds (fuzz/corpus/sampling_rules_fuzz/repro_priority_1e300,
  // sampling_targets_fuzz/repro_reservoir_quota_1e300): a whole double beyond int64 was converted
  // to int64, undefined behaviour flagged by UBSan.
  json huge = record("huge", 1, 0.1, 1);
  huge["SamplingRule"]["Priority"] = 1e300;
  json unsigned_huge = record("unsigned-huge", 1, 0.1, 1);
  unsigned_huge["SamplingRule"]["Priority"] = std::numeric_limits<std::uint64_t>::max();
  auto rules = parse(json::array({huge, unsigned_huge}));
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].priority, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(rules[1].priority, std::numeric_limits<std::int64_t>::max());

  RuleSet set = make_rule_set(parse(json::array({record("api", 1, 0.05, 1)})), nullptr);
  std::string error;
  ASSERT_TRUE(apply_sampling_targets(
      set, R"({"SamplingTargetDocuments":[{"RuleName":"api","ReservoirQuota":1e300}]})", &error));
  EXPECT_EQ(set.rules[0].state->quota(), std::numeric_limits<std::int64_t>::max());
}

TEST(CentralizedRulesTest, UnprocessedStatisticsWithA4xxCodeRequestARulesFetch) {
  RuleSet set;
  std::string error;
  auto outcome = apply_sampling_targets(
      set, R"({"UnprocessedStatistics":[{"RuleName":"a","ErrorCode":"400","Message":"Unknown rule"},{"RuleName":7,"ErrorCode":5}]})", &error);
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(outcome->refresh_rules);
  EXPECT_EQ(outcome->problems.size(), 2u);
  EXPECT_FALSE(apply_sampling_targets(set, "{", &error));
}

}  // namespace
}  // namespace xray::detail
