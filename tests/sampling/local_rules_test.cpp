#include "sampling/local_rules.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace xray::detail {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kEpoch = 1'700'000'000;

// Python's manifest M and rule R (spec §7.2, aws-xray-sdk-python tests/test_local_sampling.py).
const char* const kM =
    R"({"version":2,"rules":[{"description":"Player moves.","host":"*","http_method":"*",)"
    R"("url_path":"/api/move/*","fixed_target":0,"rate":0}],"default":{"fixed_target":1,"rate":1}})";
const char* const kR =
    R"({"description":"Player moves.","host":"*","http_method":"*","url_path":"/api/move/*",)"
    R"("fixed_target":0,"rate":0.05})";

// A settable clock shared by value with the strategy.
struct FakeSeconds {
  std::shared_ptr<std::atomic<std::int64_t>> now =
      std::make_shared<std::atomic<std::int64_t>>(kEpoch);
  LocalRulesSampling::SecondsClock clock() const {
    auto shared = now;
    return [shared] { return shared->load(std::memory_order_relaxed); };
  }
  void advance() const { now->fetch_add(1, std::memory_order_relaxed); }
};

LocalRulesSampling::Draw constant_draw(double value) {
  return [value] { return value; };
}

LocalRulesManifest parse_ok(const std::string& text) {
  std::string error;
  auto manifest = parse_local_rules(text, &error);
  EXPECT_TRUE(manifest.has_value()) << text << "\n" << error;
  return manifest.value_or(LocalRulesManifest{});
}

// The error for an invalid manifest; fails the test when it parses.
std::string parse_error(const std::string& text) {
  std::string error;
  auto manifest = parse_local_rules(text, &error);
  EXPECT_FALSE(manifest.has_value()) << text;
  EXPECT_FALSE(error.empty()) << text;
  return error;
}

// A manifest with `rule` as its only rule and a never-sampling default.
std::string with_rule(const std::string& rule) {
  return R"({"version":2,"default":{"fixed_target":0,"rate":0},"rules":[)" + rule + "]}";
}

SamplingRequest request(std::optional<std::string_view> host,
                        std::optional<std::string_view> method,
                        std::optional<std::string_view> path) {
  SamplingRequest r;
  r.host = host;
  r.method = method;
  r.url_path = path;
  return r;
}

std::unique_ptr<LocalRulesSampling> strategy(const std::string& text, const FakeSeconds& seconds,
                                             LocalRulesSampling::Draw draw = constant_draw(0.5)) {
  return std::make_unique<LocalRulesSampling>(parse_ok(text), seconds.clock(), std::move(draw));
}

// --- Python conformance vectors -------------------------------------------------------------

TEST(LocalRulesPython, MDefaultSamplesUnmatchedAndEmptyRequests) {
  FakeSeconds seconds;
  auto m = strategy(kM, seconds);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(m->decide(request(std::nullopt, "GET", "/view")).sampled);
    EXPECT_TRUE(m->decide(SamplingRequest{}).sampled);
  }
  EXPECT_EQ(m->match(SamplingRequest{}), LocalRulesSampling::kDefaultRule);
}

TEST(LocalRulesPython, MRuleNeverSamplesMoves) {
  FakeSeconds seconds;
  auto m = strategy(kM, seconds, constant_draw(0.0));
  for (int i = 0; i < 5; ++i) {
    auto match = m->decide_with_rule(request("name", "method", "/api/move/left"));
    EXPECT_FALSE(match.sampled);
    EXPECT_EQ(match.rule, 0u);
  }
}

TEST(LocalRulesPython, MWithoutVersionIsInvalid) {
  std::string text = kM;
  text.replace(text.find(R"("version":2,)"), std::string(R"("version":2,)").size(), "");
  EXPECT_THAT(parse_error(text), HasSubstr("version"));
}

TEST(LocalRulesPython, RAppliesWithAbsentAttributes) {
  FakeSeconds seconds;
  auto s = strategy(with_rule(kR), seconds);
  EXPECT_EQ(s->match(request("name", "GET", "/api/move/up")), 0u);
  EXPECT_EQ(s->match(request(std::nullopt, "POST", "/api/move/up")), 0u);
  EXPECT_EQ(s->match(request("name", std::nullopt, "/api/move/up")), 0u);
  EXPECT_EQ(s->match(request("name", "PUT", std::nullopt)), 0u);
  EXPECT_EQ(s->match(request(std::nullopt, "GET", "/root")), LocalRulesSampling::kDefaultRule);
}

TEST(LocalRulesEvaluation, EmptyAttributesCountAsAbsent) {
  // Spec §7.3 decision: "" matches any pattern, as an absent attribute does.
  FakeSeconds seconds;
  auto s = strategy(with_rule(R"({"host":"*.example.com","http_method":"GET","url_path":"/api/*",)"
                              R"("fixed_target":0,"rate":0})"),
                    seconds);
  EXPECT_EQ(s->match(request("", "GET", "/api/x")), 0u);
  EXPECT_EQ(s->match(request("shop.example.com", "", "/api/x")), 0u);
  EXPECT_EQ(s->match(request("shop.example.com", "GET", "")), 0u);
  EXPECT_EQ(s->match(request("shop.example.org", "GET", "")), LocalRulesSampling::kDefaultRule);
  // Nothing but empty attributes: no request information, so the default decides.
  EXPECT_EQ(s->match(request("", "", "")), LocalRulesSampling::kDefaultRule);
}

TEST(LocalRulesPython, InvalidRVariants) {
  std::string r = kR;
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string out = r;
    out.replace(out.find(from), from.size(), to);
    return out;
  };
  EXPECT_EQ(parse_error(with_rule(replace(R"("rate":0.05)", R"("rate":-1)"))),
            "rules[0]: rate must be a number in [0, 1]");
  EXPECT_EQ(parse_error(with_rule(replace(R"("fixed_target":0)", R"("fixed_target":-1)"))),
            "rules[0]: fixed_target must be a non-negative integer");
  EXPECT_THAT(parse_error(R"({"version":2,"default":)" + r + "}"),
              HasSubstr("is not allowed in the default rule"));
  EXPECT_EQ(parse_error(with_rule(replace(R"(,"url_path":"/api/move/*")", ""))),
            "rules[0]: missing url_path");
}

// --- Envoy rejections (localized_sampling_test.cc) ------------------------------------------

struct Rejection {
  const char* name;
  std::string manifest;
  const char* error;  // a substring of the expected message
};

TEST(LocalRulesEnvoy, RejectsEach) {
  const std::string rule_head = R"({"host":"*","http_method":"*","url_path":"*")";
  const Rejection rejections[] = {
      {"bad JSON", "{{}", "invalid JSON"},
      {"rate 1.5", with_rule(rule_head + R"(,"fixed_target":1,"rate":1.5})"),
       "rules[0]: rate must be a number in [0, 1]"},
      {"fixed_target 4.2", with_rule(rule_head + R"(,"fixed_target":4.2,"rate":0.5})"),
       "rules[0]: fixed_target must be a non-negative integer"},
      {"default without rate", R"({"version":2,"default":{"fixed_target":1}})",
       "default: missing rate"},
      {"default without fixed_target", R"({"version":2,"default":{"rate":0.5}})",
       "default: missing fixed_target"},
      {"no version", R"({"default":{"fixed_target":1,"rate":0.5}})", "missing version"},
      {"no default", R"({"version":2,"rules":[]})", "missing default"},
      {"host null",
       with_rule(R"({"host":null,"http_method":"*","url_path":"*","fixed_target":1,"rate":0.5})"),
       "rules[0]: host must be a string"},
      {"http_method 42",
       with_rule(R"({"host":"*","http_method":42,"url_path":"*","fixed_target":1,"rate":0.5})"),
       "rules[0]: http_method must be a string"},
      {"url_path object",
       with_rule(R"({"host":"*","http_method":"*","url_path":{},"fixed_target":1,"rate":0.5})"),
       "rules[0]: url_path must be a string"},
      {"rule without fixed_target", with_rule(rule_head + R"(,"rate":0.5})"),
       "rules[0]: missing fixed_target"},
      {"rule without rate", with_rule(rule_head + R"(,"fixed_target":1})"),
       "rules[0]: missing rate"},
      {"string inside rules", with_rule(R"("rule")"), "rules[0]: must be an object"},
      {"fixed_target -1", with_rule(rule_head + R"(,"fixed_target":-1,"rate":0.5})"),
       "rules[0]: fixed_target must be a non-negative integer"},
      {"default rate -0.1", R"({"version":2,"default":{"fixed_target":1,"rate":-0.1}})",
       "default: rate must be a number in [0, 1]"},
  };
  for (const Rejection& r : rejections) {
    EXPECT_THAT(parse_error(r.manifest), HasSubstr(r.error)) << r.name;
  }
}

// Envoy rejects version 1; the SDK accepts it (service_name instead of host).
TEST(LocalRulesEnvoy, VersionOneAcceptedWithServiceName) {
  auto manifest = parse_ok(
      R"({"version":1,"default":{"fixed_target":1,"rate":0.1},"rules":[{"service_name":"api.*",)"
      R"("http_method":"GET","url_path":"/x","fixed_target":2,"rate":0.2}]})");
  EXPECT_EQ(manifest.version, 1);
  ASSERT_EQ(manifest.rules.size(), 1u);
  EXPECT_EQ(manifest.rules[0].host, "api.*");
  EXPECT_EQ(manifest.rules[0].fixed_target, 2u);
  EXPECT_DOUBLE_EQ(manifest.rules[0].rate, 0.2);
}

TEST(LocalRulesEnvoy, FixedDrawReservoirThenRateMiss) {
  FakeSeconds seconds;
  const SamplingRequest kAny = request("h", "GET", "/");
  auto s = strategy(with_rule(R"({"host":"*","http_method":"*","url_path":"*",)"
                              R"("fixed_target":1,"rate":0.5})"),
                    seconds, constant_draw(0.9));
  EXPECT_TRUE(s->decide(kAny).sampled);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(s->decide(kAny).sampled) << i;
  seconds.advance();  // a new second refills the reservoir
  EXPECT_TRUE(s->decide(kAny).sampled);
  EXPECT_FALSE(s->decide(kAny).sampled);
}

TEST(LocalRulesEnvoy, FixedDrawRateHit) {
  FakeSeconds seconds;
  const SamplingRequest kAny = request("h", "GET", "/");
  auto s = strategy(with_rule(R"({"host":"*","http_method":"*","url_path":"*",)"
                              R"("fixed_target":0,"rate":0.1})"),
                    seconds, constant_draw(0.01));
  int count = 0;
  for (int i = 0; i < 10; ++i) count += s->decide(kAny).sampled ? 1 : 0;
  EXPECT_EQ(count, 10);
}

TEST(LocalRulesEnvoy, UnmatchedFallsToZeroDefault) {
  FakeSeconds seconds;
  auto s = strategy(with_rule(R"({"host":"example.com","http_method":"GET","url_path":"/api",)"
                              R"("fixed_target":10,"rate":1})"),
                    seconds, constant_draw(0.0));
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(s->decide(request("other.com", "GET", "/api")).sampled);
    EXPECT_FALSE(s->decide(request("example.com", "POST", "/api")).sampled);
    EXPECT_FALSE(s->decide(request("example.com", "GET", "/other")).sampled);
  }
  EXPECT_TRUE(s->decide(request("EXAMPLE.com", "get", "/API")).sampled);
}

// envoy#18283: the user's default applies, not the built-in one.
TEST(LocalRulesEnvoy, UserZeroDefaultWithoutRulesNeverSamples) {
  FakeSeconds seconds;
  auto s = strategy(R"({"version":2,"default":{"fixed_target":0,"rate":0}})", seconds,
                    constant_draw(0.0));
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(s->decide(request("h", "GET", "/")).sampled);
    EXPECT_FALSE(s->decide(SamplingRequest{}).sampled);
    if (i % 10 == 0) seconds.advance();
  }
}

// --- Further validation ---------------------------------------------------------------------

TEST(LocalRulesValidation, MessageNamesTheRuleIndex) {
  std::string rule = R"({"host":"*","http_method":"*","url_path":"*","fixed_target":1,"rate":0.5})";
  std::string bad = R"({"host":"*","http_method":"*","url_path":"*","fixed_target":1,"rate":50})";
  EXPECT_EQ(parse_error(with_rule(rule + "," + rule + "," + bad)),
            "rules[2]: rate must be a number in [0, 1]");
}

TEST(LocalRulesValidation, VersionMustBeOneOrTwo) {
  for (const char* version : {"0", "3", "\"2\"", "2.0", "-1", "null", "true"}) {
    EXPECT_EQ(parse_error(std::string(R"({"version":)") + version +
                          R"(,"default":{"fixed_target":1,"rate":0.5}})"),
              "version must be 1 or 2")
        << version;
  }
}

TEST(LocalRulesValidation, ShapeErrors) {
  EXPECT_THAT(parse_error("[]"), HasSubstr("must be a JSON object"));
  EXPECT_THAT(parse_error(""), HasSubstr("invalid JSON"));
  EXPECT_EQ(parse_error(R"({"version":2,"default":[]})"), "default: must be an object");
  EXPECT_EQ(parse_error(R"({"version":2,"default":{"fixed_target":1,"rate":1},"rules":{}})"),
            "rules: must be an array");
  EXPECT_EQ(parse_error(R"({"version":2,"default":{"fixed_target":1,"rate":1},"rules":null})"),
            "rules: must be an array");
  EXPECT_EQ(parse_error(R"({"version":2,"default":{"fixed_target":true,"rate":1}})"),
            "default: fixed_target must be a non-negative integer");
  EXPECT_EQ(parse_error(R"({"version":2,"default":{"fixed_target":1,"rate":"0.5"}})"),
            "default: rate must be a number in [0, 1]");
  for (const char* key : {"host", "service_name", "http_method", "url_path"}) {
    EXPECT_EQ(parse_error(std::string(R"({"version":2,"default":{"fixed_target":1,"rate":1,")") +
                          key + R"(":"*"}})"),
              std::string("default: ") + key + " is not allowed in the default rule");
  }
}

TEST(LocalRulesValidation, VersionSpecificHostKeys) {
  EXPECT_EQ(parse_error(with_rule(R"({"host":"*","service_name":"*","http_method":"*",)"
                                  R"("url_path":"*","fixed_target":1,"rate":0.5})")),
            "rules[0]: service_name is not allowed in version 2 (use host)");
  EXPECT_EQ(
      parse_error(R"({"version":1,"default":{"fixed_target":1,"rate":1},"rules":[)"
                  R"({"host":"*","http_method":"*","url_path":"*","fixed_target":1,"rate":1}]})"),
      "rules[0]: host is not allowed in version 1 (use service_name)");
  EXPECT_EQ(parse_error(R"({"version":1,"default":{"fixed_target":1,"rate":1},"rules":[)"
                        R"({"http_method":"*","url_path":"*","fixed_target":1,"rate":1}]})"),
            "rules[0]: missing service_name");
  EXPECT_EQ(
      parse_error(with_rule(R"({"http_method":"*","url_path":"*","fixed_target":1,"rate":1})")),
      "rules[0]: missing host");
}

TEST(LocalRulesValidation, AcceptsBoundsAndIgnoresExtraKeys) {
  auto manifest = parse_ok(
      R"({"version":2,"description":"x","unknown":[1,2],"default":{"fixed_target":0,"rate":1,"id":"d"},)"
      R"("rules":[{"description":"…","id":"1","host":"*","http_method":"*","url_path":"/checkout",)"
      R"("fixed_target":10,"rate":0,"extra":{"a":1}}]})");
  ASSERT_EQ(manifest.rules.size(), 1u);
  EXPECT_EQ(manifest.rules[0].url_path, "/checkout");
  EXPECT_EQ(manifest.rules[0].fixed_target, 10u);
  EXPECT_EQ(manifest.rules[0].rate, 0.0);
  EXPECT_EQ(manifest.default_rule.fixed_target, 0u);
  EXPECT_EQ(manifest.default_rule.rate, 1.0);
  // Integer rates are numbers too; very large targets saturate rather than wrap.
  auto big = parse_ok(R"({"version":2,"default":{"fixed_target":99999999999,"rate":1}})");
  EXPECT_EQ(big.default_rule.fixed_target, 0xFFFFFFFFu);
}

TEST(LocalRulesValidation, NegativeZeroTargetIsZero) {
  auto manifest = parse_ok(R"({"version":2,"default":{"fixed_target":-0,"rate":0.1}})");
  EXPECT_EQ(manifest.default_rule.fixed_target, 0u);
  EXPECT_THAT(parse_error(R"({"version":2,"default":{"fixed_target":-0.0,"rate":0.1}})"),
              HasSubstr("fixed_target must be a non-negative integer"));
}

TEST(LocalRulesValidation, NumbersBeyondDoubleAreInvalidJson) {
  for (const char* text : {R"({"version":2,"default":{"fixed_target":1,"rate":1e400}})",
                           R"({"version":2,"default":{"fixed_target":1,"rate":-1e400}})",
                           R"({"version":2,"default":{"fixed_target":1e999,"rate":0}})"}) {
    EXPECT_THAT(parse_error(text), HasSubstr("invalid JSON")) << text;
  }
}

TEST(LocalRulesValidation, RulesAbsentOrEmpty) {
  EXPECT_TRUE(parse_ok(R"({"version":2,"default":{"fixed_target":1,"rate":0.05}})").rules.empty());
  EXPECT_TRUE(parse_ok(R"({"version":2,"default":{"fixed_target":1,"rate":0.05},"rules":[]})")
                  .rules.empty());
}

// --- Evaluation -----------------------------------------------------------------------------

TEST(LocalRulesEvaluation, FirstMatchWinsInArrayOrder) {
  FakeSeconds seconds;
  auto s = strategy(
      R"({"version":2,"default":{"fixed_target":0,"rate":0},"rules":[)"
      R"({"host":"*","http_method":"GET","url_path":"/api/*","fixed_target":0,"rate":1},)"
      R"({"host":"*","http_method":"*","url_path":"/api/users","fixed_target":0,"rate":0},)"
      R"({"host":"*","http_method":"*","url_path":"*","fixed_target":0,"rate":1}]})",
      seconds);
  EXPECT_EQ(s->match(request("h", "GET", "/api/users")), 0u);
  EXPECT_TRUE(s->decide(request("h", "GET", "/api/users")).sampled);
  EXPECT_EQ(s->match(request("h", "POST", "/api/users")), 1u);
  EXPECT_FALSE(s->decide(request("h", "POST", "/api/users")).sampled);
  EXPECT_EQ(s->match(request("h", "POST", "/other")), 2u);
  EXPECT_TRUE(s->decide(request("h", "POST", "/other")).sampled);
}

TEST(LocalRulesEvaluation, VersionOneServiceNameMatchesTheRequestHost) {
  FakeSeconds seconds;
  auto s = strategy(
      R"({"version":1,"default":{"fixed_target":0,"rate":0},"rules":[)"
      R"({"service_name":"*.example.com","http_method":"*","url_path":"*","fixed_target":0,"rate":1}]})",
      seconds);
  SamplingRequest by_host = request("api.example.com", "GET", "/");
  EXPECT_TRUE(s->decide(by_host).sampled);
  // The request's service_name (the segment name) is not what v1 service_name matches.
  SamplingRequest by_name = request("other.org", "GET", "/");
  by_name.service_name = "api.example.com";
  EXPECT_EQ(s->match(by_name), LocalRulesSampling::kDefaultRule);
  EXPECT_FALSE(s->decide(by_name).sampled);
}

TEST(LocalRulesEvaluation, EachRuleHasItsOwnReservoir) {
  FakeSeconds seconds;
  auto s = strategy(R"({"version":2,"default":{"fixed_target":1,"rate":0},"rules":[)"
                    R"({"host":"*","http_method":"*","url_path":"/a","fixed_target":2,"rate":0},)"
                    R"({"host":"*","http_method":"*","url_path":"/b","fixed_target":1,"rate":0}]})",
                    seconds, constant_draw(0.0));
  auto count = [&](std::optional<std::string_view> path) {
    int n = 0;
    for (int i = 0; i < 10; ++i) n += s->decide(request("h", "GET", path)).sampled ? 1 : 0;
    return n;
  };
  EXPECT_EQ(count("/a"), 2);
  EXPECT_EQ(count("/b"), 1);
  EXPECT_EQ(count("/c"), 1);
  seconds.advance();
  EXPECT_EQ(count("/b"), 1);
  EXPECT_EQ(count("/a"), 2);
}

TEST(LocalRulesEvaluation, RuleNameStaysEmptyAndDescribeNamesTheRule) {
  FakeSeconds seconds;
  auto s = strategy(with_rule(kR), seconds);
  EXPECT_TRUE(s->decide(request("h", "GET", "/api/move/up")).rule_name.empty());
  EXPECT_EQ(
      s->describe_rule(0),
      R"(rule 0 (host "*", http_method "*", url_path "/api/move/*"): 0 per second, then rate 0.05)");
  EXPECT_EQ(s->describe_rule(LocalRulesSampling::kDefaultRule),
            "default rule: 0 per second, then rate 0");
  EXPECT_EQ(s->describe(),
            "local rules (version 2): 1 rule(s), default rule: 0 per second, then rate 0");
}

// The built-in default rule over 100,000 decisions, 100 per second: 1 from the reservoir and the
// rest at 5% each second. Fixed seed; the bound is 5 binomial standard deviations.
TEST(LocalRulesEvaluation, BuiltInDefaultIsStatisticallySound) {
  FakeSeconds seconds;
  auto engine = std::make_shared<std::mt19937_64>(42);
  auto draw = [engine] { return static_cast<double>((*engine)() >> 11) * 0x1.0p-53; };
  auto s = strategy(R"({"version":2,"default":{"fixed_target":1,"rate":0.05},"rules":[]})", seconds,
                    draw);
  constexpr int kDecisions = 100'000;
  constexpr int kPerSecond = 100;
  int sampled = 0;
  for (int i = 0; i < kDecisions; ++i) {
    if (i > 0 && i % kPerSecond == 0) seconds.advance();
    sampled += s->decide(request("h", "GET", "/")).sampled ? 1 : 0;
  }
  const double seconds_used = kDecisions / kPerSecond;
  const double drawn = kDecisions - seconds_used;
  const double expected = seconds_used + drawn * 0.05;
  const double sigma = std::sqrt(drawn * 0.05 * 0.95);
  EXPECT_NEAR(sampled, expected, 5 * sigma);
}

// Eight threads in one second share a reservoir of 10 and a rate of 0: exactly 10 sampled.
TEST(LocalRulesEvaluation, ConcurrentDecide) {
  FakeSeconds seconds;
  auto s = std::make_shared<LocalRulesSampling>(
      parse_ok(
          R"({"version":2,"default":{"fixed_target":3,"rate":0},"rules":[)"
          R"({"host":"*","http_method":"*","url_path":"/hot/*","fixed_target":10,"rate":0}]})"),
      seconds.clock());
  std::atomic<int> hot{0};
  std::atomic<int> cold{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (s->decide(request("h", "GET", "/hot/x")).sampled) hot.fetch_add(1);
        if (s->decide(request("h", "GET", "/cold")).sampled) cold.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(hot.load(), 10);
  EXPECT_EQ(cold.load(), 3);
}

// --- Sources --------------------------------------------------------------------------------

std::string temp_path(const std::string& name) {
  return "/tmp/xray_local_rules_test_" + std::to_string(::getpid()) + "_" + name;
}

TEST(LocalRulesSource, PublicFactory) {
  std::string error;
  EXPECT_EQ(make_local_rules_sampling(R"({"version":2})", &error), nullptr);
  EXPECT_EQ(error, "missing default");
  EXPECT_EQ(make_local_rules_sampling("{", nullptr), nullptr);
  auto ok = make_local_rules_sampling(kM, &error);
  ASSERT_NE(ok, nullptr);
  EXPECT_THAT(ok->describe(), HasSubstr("1 rule(s)"));
}

TEST(LocalRulesSource, FromJsonAndFile) {
  std::string error;
  EXPECT_NE(make_sampling_from_rules(Sampling::local_rules_json(kM), &error), nullptr);
  EXPECT_EQ(make_sampling_from_rules(Sampling::local_rules_json("{}"), &error), nullptr);
  EXPECT_EQ(error, "sampling rules JSON: missing version (must be 1 or 2)");

  std::string missing = temp_path("missing.json");
  EXPECT_EQ(make_sampling_from_rules(Sampling::local_rules_file(missing), &error), nullptr);
  EXPECT_EQ(error,
            "sampling rules file \"" + missing + "\": cannot open: No such file or directory");

  std::string good = temp_path("good.json");
  { std::ofstream(good) << kM; }
  EXPECT_NE(make_sampling_from_rules(Sampling::local_rules_file(good), &error), nullptr);
  std::remove(good.c_str());

  std::string huge = temp_path("huge.json");
  { std::ofstream(huge) << std::string(kMaxRulesFileBytes + 1, ' '); }
  EXPECT_EQ(make_sampling_from_rules(Sampling::local_rules_file(huge), &error), nullptr);
  EXPECT_THAT(error, HasSubstr("larger than 1048576 bytes"));
  std::remove(huge.c_str());

  EXPECT_EQ(make_sampling_from_rules(Sampling::local_rules_file("/tmp"), &error), nullptr);
  EXPECT_THAT(error, HasSubstr("sampling rules file \"/tmp\": cannot read"));

  EXPECT_EQ(make_sampling_from_rules(Sampling(true), &error), nullptr);
}

TEST(LocalRulesSource, SamplingKeepsItsSource) {
  Sampling file = Sampling::local_rules_file("/etc/rules.json");
  EXPECT_TRUE(file.enabled());
  EXPECT_EQ(file.strategy(), nullptr);
  EXPECT_EQ(file.rules_source(), Sampling::RulesSource::kFile);
  EXPECT_EQ(file.rules(), "/etc/rules.json");
  Sampling text = Sampling::local_rules_json("{}");
  EXPECT_EQ(text.rules_source(), Sampling::RulesSource::kJson);
  Sampling off = false;
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(off.rules_source(), Sampling::RulesSource::kNone);
  static_assert(!std::is_convertible_v<int, Sampling>);
  static_assert(!std::is_convertible_v<const char*, Sampling>);
}

}  // namespace
}  // namespace xray::detail
