// Fault injection (issue 14): a hostile sampling proxy (the daemon's TCP proxy serving
// GetSamplingRules and SamplingTargets) on loopback. Whatever it does, a poll fails by its 2 s
// deadline or at the 4 MB body cap without throwing, the rules last fetched (or else the local
// fallback) keep deciding, and a recorder destroyed while a poll is in flight returns promptly.
//
// Covered elsewhere, not repeated here: a proxy that accepts and never answers
// (CentralizedSamplingTest.AServerThatNeverAnswersFailsByTheTimeout), invalid JSON, one HTTP 500
// and a connection closed at once (CentralizedSamplingTest.BadAnswersKeepTheLastGoodRulesAndLog).
#include "sampling/centralized_sampling.hpp"

#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_daemon.hpp"
#include "support/fake_http_server.hpp"
#include "support/centralized_cache_fixture.hpp"
#include "support/fake_sampling_proxy.hpp"
#include "support/test_recorder.hpp"
#include "xray/recorder.hpp"

namespace xray::detail {
namespace {

using json = nlohmann::json;
using ::testing::IsEmpty;
using testing::CapturedLog;
using testing::FakeDaemon;
using testing::FakeSamplingProxy;
using testing::HttpReply;
using testing::RecordedRequest;
using testing::rules_page;
using testing::sampling_rule;
using SteadyClock = std::chrono::steady_clock;

constexpr std::uint64_t kTenMegabytes = 10 * 1024 * 1024;

// A fallback that counts its decisions (and samples nothing), so a test sees who decided.
// Waits (polling, up to `timeout`) for a log line containing `text`: the poller's outcome is only
// visible in the log.
bool wait_for_log(const CapturedLog& log, std::string_view text, std::chrono::milliseconds timeout) {
  const auto until = SteadyClock::now() + timeout;
  while (!log.contains(text)) {
    if (SteadyClock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// The cache driven directly: no poller thread, time and draws injected.
class SamplingProxyFaultsTest : public testing::CentralizedCacheTest {
 protected:
  std::size_t lines_containing(std::string_view text) const {
    std::size_t count = 0;
    for (const auto& line : log_.lines()) count += line.find(text) != std::string::npos ? 1 : 0;
    return count;
  }

  void load_good_rules() {
    proxy_.serve_rules(rules_page(json::array({sampling_rule("good", 1, 1.0, 0)})));
    ASSERT_TRUE(cache_->refresh_rules(now_));
    ASSERT_EQ(decide().rule_name, "good");
  }
};

TEST_F(SamplingProxyFaultsTest, OneBytePerSecondFailsByTheDeadlineForRulesAndTargets) {
  const std::string valid = rules_page(json::array({sampling_rule("slow", 1, 1.0, 0)})).dump();
  proxy_.serve_rules([valid](const RecordedRequest&) {
    return HttpReply::trickle(1, HttpReply(200, {}, valid));
  });
  auto start = SteadyClock::now();
  EXPECT_FALSE(cache_->refresh_rules(now_));
  // Functional bound: the 2 s deadline holds; the whole answer would take minutes at 1 byte/s.
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(log_.contains("sampling rules not refreshed")) << ::testing::PrintToString(log_.lines());
  EXPECT_FALSE(decide().sampled);
  EXPECT_EQ(fallback_->calls, 1);  // never had rules: the local fallback decides

  load_good_rules();
  proxy_.serve_targets([](const RecordedRequest&) {
    return HttpReply::trickle(1, HttpReply(200, {}, R"({"SamplingTargetDocuments":[]})"));
  });
  start = SteadyClock::now();
  EXPECT_FALSE(cache_->refresh_targets(now_ + 10));
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(log_.contains("sampling targets not refreshed"));
  EXPECT_EQ(decide().rule_name, "good");  // the rules last fetched keep deciding
  EXPECT_EQ(fallback_->calls, 1);
}

TEST_F(SamplingProxyFaultsTest, TenMegabytesAreRefusedAtTheCapNotBuffered) {
  load_good_rules();
  for (bool declared : {true, false}) {
    SCOPED_TRACE(declared ? "Content-Length: 10 MB" : "10 MB until the connection closes");
    // A valid start, so only the size is wrong: read whole, the answer would not be refused for
    // its size but as invalid JSON.
    const auto reply = HttpReply::large(kTenMegabytes, declared, R"({"SamplingRuleRecords":[)");
    proxy_.serve_rules([reply](const RecordedRequest&) { return reply; });
    proxy_.serve_targets([reply](const RecordedRequest&) { return reply; });
    const std::size_t refused_before = lines_containing("body limit");
    std::uint64_t sent_before = proxy_.server().bytes_sent();
    auto start = SteadyClock::now();
    EXPECT_FALSE(cache_->refresh_rules(now_));
    // Refused at the cap (kMaxResponseBytes, 4 MB), not at the 2 s deadline; with a declared
    // length before any body byte is read, so the proxy never gets to write its 10 MB.
    EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(2));
    EXPECT_EQ(lines_containing("body limit"), refused_before + 1);
    if (declared) {
      EXPECT_LT(proxy_.server().bytes_sent() - sent_before, kTenMegabytes);
    }

    decide();  // statistics to report
    sent_before = proxy_.server().bytes_sent();
    start = SteadyClock::now();
    EXPECT_FALSE(cache_->refresh_targets(now_ + 10));
    now_ = now_ + 10;
    EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(2));
    EXPECT_EQ(lines_containing("body limit"), refused_before + 2);
    if (declared) {
      EXPECT_LT(proxy_.server().bytes_sent() - sent_before, kTenMegabytes);
    }
    EXPECT_EQ(decide().rule_name, "good");
  }
  EXPECT_EQ(fallback_->calls, 0);
}

TEST_F(SamplingProxyFaultsTest, WrongTypesNeverThrowAndKeepTheLastGoodRules) {
  load_good_rules();
  // Not a GetSamplingRules object at all: the whole answer is refused.
  for (const char* body : {"[]", "42", R"("rules")", "null", R"({"SamplingRuleRecords":{}})",
                           R"({"SamplingRuleRecords":"all"})",
                           R"({"SamplingRuleRecords":[{"SamplingRule":{"RuleName":"x","Priority":1e400}}]})"}) {
    SCOPED_TRACE(body);
    proxy_.serve_rules([body](const RecordedRequest&) { return HttpReply(200, {}, body); });
    EXPECT_FALSE(cache_->refresh_rules(now_));
    EXPECT_EQ(decide().rule_name, "good");
  }
  // Targets of the wrong types are ignored field by field; the rule keeps deciding.
  for (const char* body :
       {"[]", R"({"SamplingTargetDocuments":5,"LastRuleModification":"yesterday"})",
        R"({"SamplingTargetDocuments":[7,null,{"RuleName":["good"]},{"RuleName":"good",
            "FixedRate":"high","ReservoirQuota":-5,"ReservoirQuotaTTL":"soon","Interval":-1}],
            "UnprocessedStatistics":[1,{"RuleName":2,"ErrorCode":500}]})"}) {
    SCOPED_TRACE(body);
    proxy_.serve_targets([body](const RecordedRequest&) { return HttpReply(200, {}, body); });
    decide();  // statistics to report
    now_ = now_ + 10;
    cache_->refresh_targets(now_);
    now_ = now_ + 1;
    EXPECT_EQ(decide().rule_name, "good");
  }
  // A page whose records all have wrong types is a valid, empty rule set: the fallback decides.
  proxy_.serve_rules(json{{"SamplingRuleRecords",
                           {1, "x", nullptr, json::array(), json{{"SamplingRule", json::array()}},
                            json{{"SamplingRule", {{"RuleName", 5}}}}}},
                          {"NextToken", 7}});
  EXPECT_TRUE(cache_->refresh_rules(now_));
  EXPECT_FALSE(decide().sampled);
  EXPECT_EQ(fallback_->calls, 1);
}

TEST_F(SamplingProxyFaultsTest, AbsurdRuleValuesAreSkippedAndTheValidRulesDecide) {
  json records = json::array({sampling_rule("negative-rate", 1, -0.5, 1, "/a"),
                              sampling_rule("rate-above-one", 2, 1.5, 1, "/a"),
                              sampling_rule("negative-reservoir", 3, 1.0, -1, "/a"),
                              sampling_rule("negative-priority", -4, 1.0, 1, "/a"),
                              sampling_rule("fractional-reservoir", 5, 1.0, 0, "/a"),
                              sampling_rule("valid", 10, 0.0, 0, "/a")});
  records[4]["SamplingRule"]["ReservoirSize"] = 0.5;
  proxy_.serve_rules(rules_page(records));
  ASSERT_TRUE(cache_->refresh_rules(now_));
  for (const char* name : {"negative-rate", "rate-above-one", "negative-reservoir",
                           "negative-priority", "fractional-reservoir"}) {
    EXPECT_TRUE(log_.contains(std::string("skipped rule \"") + name + "\"")) << name;
  }
  draw_ = 0.0;  // any rule with a rate above 0 would sample
  SamplingDecision decision = decide("/a");
  EXPECT_EQ(decision.rule_name, "valid");
  EXPECT_FALSE(decision.sampled);
  EXPECT_FALSE(decide("/b").sampled);  // no rule for /b: the fallback
  EXPECT_EQ(fallback_->calls, 1);
}

TEST_F(SamplingProxyFaultsTest, TenThousandRulesInOnePageAreCappedAtOneThousand) {
  json records = json::array();
  for (int i = 0; i < 10000; ++i) {
    records.push_back(sampling_rule("r" + std::to_string(i), i, 1.0, 0, "/r/" + std::to_string(i)));
  }
  std::string body = rules_page(records).dump();
  ASSERT_LT(body.size(), CentralizedRuleCache::kMaxResponseBytes);  // only the count is absurd
  records = json();
  proxy_.serve_rules([body = std::move(body)](const RecordedRequest&) { return HttpReply(200, {}, body); });
  ASSERT_TRUE(cache_->refresh_rules(now_));
  EXPECT_TRUE(log_.contains("more than 1000 rules"));
  EXPECT_EQ(decide("/r/0").rule_name, "r0");
  EXPECT_EQ(decide("/r/999").rule_name, "r999");
  EXPECT_FALSE(decide("/r/1000").sampled);  // beyond the cap: the fallback
  EXPECT_FALSE(decide("/r/9999").sampled);
  EXPECT_EQ(fallback_->calls, 2);
}

TEST_F(SamplingProxyFaultsTest, DuplicateRuleNamesKeepTheFirstAndReportItOnce) {
  // Enough rules that sorting is not a plain insertion sort: the first of a name must still win.
  json records = json::array();
  for (int i = 0; i < 200; ++i) {
    records.push_back(sampling_rule("dup", 7, 1.0, 0, "/dup/" + std::to_string(i)));
    records.push_back(sampling_rule("other" + std::to_string(i), 7, 1.0, 0, "/other"));
  }
  proxy_.serve_rules(rules_page(records));
  ASSERT_TRUE(cache_->refresh_rules(now_));
  EXPECT_EQ(decide("/dup/0").rule_name, "dup");
  for (int i = 1; i < 200; ++i) {
    ASSERT_FALSE(decide(("/dup/" + std::to_string(i)).c_str()).sampled) << "a later \"dup\" decided";
  }
  proxy_.serve_targets(json{{"SamplingTargetDocuments", json::array()}});
  ASSERT_TRUE(cache_->refresh_targets(now_ + 10));
  auto reports = proxy_.requests("/SamplingTargets");
  ASSERT_EQ(reports.size(), 1u);
  int dup_reports = 0;
  const json report = json::parse(reports[0].body);
  for (const auto& statistics : report["SamplingStatisticsDocuments"]) {
    if (statistics["RuleName"] == "dup") ++dup_reports;
  }
  EXPECT_EQ(dup_reports, 1) << reports[0].body;
}

TEST_F(SamplingProxyFaultsTest, Http500ForeverFallsBackAndLogsOncePerInterval) {
  Logger quiet_logger;  // the default rate limit: one line per kind per 10 s
  CapturedLog limited;
  quiet_logger.set_sink(limited.sink());
  CentralizedOptions options;
  options.now = [this] { return now_.load(); };
  options.start_poller = false;
  auto cache = std::make_shared<CentralizedRuleCache>(quiet_logger, options);
  cache->set_endpoint(proxy_.endpoint());
  CentralizedSampling sampling(cache, fallback_);
  proxy_.serve_rules(rules_page(json::array({sampling_rule("good", 1, 1.0, 0)})));
  ASSERT_TRUE(cache->refresh_rules(now_));

  proxy_.serve_rules([](const RecordedRequest&) { return HttpReply(500, {}, "oops"); });
  proxy_.serve_targets([](const RecordedRequest&) { return HttpReply(500, {}, "oops"); });
  SamplingRequest request;
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(cache->refresh_rules(now_));
    EXPECT_EQ(sampling.decide(request).rule_name, "good");  // the last good rules, within the hour
    now_ = now_ + 10;
    EXPECT_FALSE(cache->refresh_targets(now_));
  }
  EXPECT_EQ(fallback_->calls, 0);
  now_ = now_ + CentralizedRuleCache::kManifestTtlSeconds;  // an hour of 500s: local rules decide
  EXPECT_FALSE(cache->refresh_rules(now_));
  sampling.decide(request);
  EXPECT_EQ(fallback_->calls, 1);
  EXPECT_EQ(limited.lines().size(), 1u) << "41 failures within a second of wall time: one log line";
}

// ---- The whole recorder against each bad proxy ----

enum class ProxyFault { kHang, kTrickle, kTenMegabytes, kTenMegabytesUndeclared, kInvalidJson, kAbsurdRules, kHttp500 };

std::string fault_name(ProxyFault fault) {
  switch (fault) {
    case ProxyFault::kHang: return "Hang";
    case ProxyFault::kTrickle: return "OneBytePerSecond";
    case ProxyFault::kTenMegabytes: return "TenMegabytes";
    case ProxyFault::kTenMegabytesUndeclared: return "TenMegabytesUntilClose";
    case ProxyFault::kInvalidJson: return "InvalidJson";
    case ProxyFault::kAbsurdRules: return "AbsurdRules";
    case ProxyFault::kHttp500: return "Http500";
  }
  return "Unknown";
}
void PrintTo(ProxyFault fault, std::ostream* out) { *out << fault_name(fault); }

HttpReply bad_reply(ProxyFault fault) {
  const std::string valid = rules_page(json::array({sampling_rule("Default", 10000, 1.0, 1)})).dump();
  switch (fault) {
    case ProxyFault::kHang: return HttpReply::hang_up();
    case ProxyFault::kTrickle: return HttpReply::trickle(1, HttpReply(200, {}, valid));
    case ProxyFault::kTenMegabytes: return HttpReply::large(kTenMegabytes);
    case ProxyFault::kTenMegabytesUndeclared: return HttpReply::large(kTenMegabytes, false, "{");
    case ProxyFault::kInvalidJson: return HttpReply(200, {}, "{\"SamplingRuleRecords\":[");
    case ProxyFault::kAbsurdRules:
      return HttpReply(200, {}, rules_page(json::array({sampling_rule("a", 1, -1.0, 1),
                                                        sampling_rule("b", 2, 2.0, 1),
                                                        sampling_rule("c", 3, 0.5, -3)}))
                                    .dump());
    case ProxyFault::kHttp500: return HttpReply(500, {}, "oops");
  }
  return HttpReply(404);
}

// What the log says once the poller's first fetch is over; empty while it stays in flight.
const char* outcome_in_log(ProxyFault fault) {
  switch (fault) {
    case ProxyFault::kHang:
    case ProxyFault::kTrickle: return "";
    case ProxyFault::kAbsurdRules: return "0 centralized rules in use";
    default: return "sampling rules not refreshed";
  }
}

class RecorderAgainstABadProxyTest : public ::testing::TestWithParam<ProxyFault> {};

TEST_P(RecorderAgainstABadProxyTest, SamplesByTheLocalDefaultSendsAndShutsDownPromptly) {
  FakeDaemon daemon;
  FakeSamplingProxy proxy;
  const HttpReply reply = bad_reply(GetParam());
  proxy.serve_rules([reply](const RecordedRequest&) { return reply; });
  proxy.serve_targets([reply](const RecordedRequest&) { return reply; });
  CapturedLog log;
  Config config;
  config.service_name = "bad-proxy";
  config.daemon_address = "udp:127.0.0.1:" + std::to_string(daemon.port()) +
                          " tcp:127.0.0.1:" + std::to_string(proxy.port());
  config.sampling = Sampling::local_default().with_centralized(true);
  config.log_sink = log.sink();
  config.log_level = LogLevel::kDebug;
  auto recorder = std::make_unique<Recorder>();
  ASSERT_TRUE(testing::configure(*recorder, config).ok());

  int sampled = 0;
  {
    SegmentScope first = recorder->begin_segment("first");  // starts the poller
    sampled += first.sampled() ? 1 : 0;
  }
  ASSERT_TRUE(proxy.server().wait_for_requests(1, std::chrono::seconds(5)));
  if (*outcome_in_log(GetParam()) != '\0') {
    ASSERT_TRUE(wait_for_log(log, outcome_in_log(GetParam()), std::chrono::seconds(5)));
  }
  // The request path keeps deciding, with the fault in flight or just past: the local default
  // (one a second, then 5%) samples some (P(none of 400) < 1e-8) and far from all.
  for (int i = 0; i < 400; ++i) {
    SegmentScope segment = recorder->begin_segment("request");
    sampled += segment.sampled() ? 1 : 0;
  }
  EXPECT_GE(sampled, 2);
  EXPECT_LT(sampled, 100);
  EXPECT_TRUE(recorder->flush(std::chrono::seconds(5)));
  ASSERT_TRUE(daemon.wait_for_documents(static_cast<std::size_t>(sampled), std::chrono::seconds(5)));
  for (const json& document : daemon.documents()) {
    EXPECT_FALSE(document.contains("aws") && document["aws"].contains("xray") &&
                 document["aws"]["xray"].contains("sampling_rule_name"))
        << document.dump();
  }

  // Destroyed with the poll in flight (hang, trickle: the proxy would hold it for the 2 s
  // deadline) or idle: either way at once. Generous functional bound, not a benchmark.
  const auto start = SteadyClock::now();
  recorder.reset();
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(1));
  EXPECT_THAT(daemon.errors(), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Faults, RecorderAgainstABadProxyTest,
                         ::testing::Values(ProxyFault::kHang, ProxyFault::kTrickle,
                                           ProxyFault::kTenMegabytes,
                                           ProxyFault::kTenMegabytesUndeclared,
                                           ProxyFault::kInvalidJson, ProxyFault::kAbsurdRules,
                                           ProxyFault::kHttp500),
                         [](const ::testing::TestParamInfo<ProxyFault>& info) {
                           return fault_name(info.param);
                         });

}  // namespace
}  // namespace xray::detail
