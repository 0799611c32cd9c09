// Sampling decisions (spec §7.2, §7.5): the cost of one decide() with 20 local rules when the
// first rule matches, when a middle one does, and when none does (the default decides); and with
// 20 centralized rules in force (plus "Default"), as the rule cache holds them after a
// GetSamplingRules response, when a middle rule matches and when only "Default" does. Uses the
// real clock and the real draw, as in production.
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DXRAY_BUILD_BENCHMARKS=ON
//   ninja -C build/bench sampling_bench
//   build/bench/bench/sampling_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "log/logger.hpp"
#include "sampling/centralized_sampling.hpp"
#include "sampling/default_sampling.hpp"
#include "sampling/local_rules.hpp"
#include "sampling/wildcard_pattern.hpp"
#include "xray/wildcard.hpp"

namespace {

constexpr int kRules = 20;

std::shared_ptr<xray::detail::LocalRulesSampling> twenty_rules() {
  std::string json = R"({"version":2,"default":{"fixed_target":1,"rate":0.05},"rules":[)";
  for (int i = 0; i < kRules; ++i) {
    if (i > 0) json += ",";
    json += R"({"host":"*.example.com","http_method":"GET","url_path":"/api/service)" +
            std::to_string(i) + R"(/*","fixed_target":1,"rate":0.05})";
  }
  json += "]}";
  std::string error;
  auto manifest = xray::detail::parse_local_rules(json, &error);
  if (!manifest) throw std::runtime_error(error);
  return std::make_shared<xray::detail::LocalRulesSampling>(std::move(*manifest));
}

void decide(benchmark::State& state, const char* url_path) {
  static const auto strategy = twenty_rules();
  xray::SamplingRequest request;
  request.host = "shop.example.com";
  request.method = "GET";
  request.url_path = url_path;
  for (auto _ : state) {
    auto decision = strategy->decide(request);
    benchmark::DoNotOptimize(decision.sampled);
  }
}

void BM_DecideFirstRule(benchmark::State& state) { decide(state, "/api/service0/orders/42"); }
void BM_DecideMiddleRule(benchmark::State& state) { decide(state, "/api/service10/orders/42"); }
void BM_DecideNoMatch(benchmark::State& state) { decide(state, "/static/app.js"); }

BENCHMARK(BM_DecideFirstRule);
BENCHMARK(BM_DecideMiddleRule);
BENCHMARK(BM_DecideNoMatch);
BENCHMARK(BM_DecideMiddleRule)->Threads(2);

// Centralized: the GetSamplingRules page a service returns for 20 rules like the local ones above
// (ServiceName and ServiceType "*", Host "*.example.com", HTTPMethod "GET", URLPath
// "/api/service<i>/*", Priority i + 1, ReservoirSize 1, FixedRate 0.05) and "Default", parsed and
// put in force the way a rules refresh does, with no poller and no quota yet (each rule borrows
// once a second, then draws).
struct Centralized {
  xray::detail::Logger logger;
  std::shared_ptr<xray::detail::CentralizedRuleCache> cache;
  std::shared_ptr<xray::detail::CentralizedSampling> strategy;

  Centralized() {
    logger.set_level(xray::LogLevel::kSilent);
    nlohmann::json records = nlohmann::json::array();
    auto record = [](const std::string& name, int priority, const std::string& host,
                     const std::string& method, const std::string& path) {
      return nlohmann::json{
          {"SamplingRule",
           {{"RuleName", name}, {"RuleARN", "arn:aws:xray:us-east-1::sampling-rule/" + name},
            {"ResourceARN", "*"}, {"Priority", priority}, {"FixedRate", 0.05},
            {"ReservoirSize", 1}, {"ServiceName", "*"}, {"ServiceType", "*"}, {"Host", host},
            {"HTTPMethod", method}, {"URLPath", path}, {"Version", 1},
            {"Attributes", nlohmann::json::object()}}},
          {"CreatedAt", 0.0},
          {"ModifiedAt", 1530558121.0}};
    };
    for (int i = 0; i < kRules; ++i) {
      records.push_back(record("service" + std::to_string(i), i + 1, "*.example.com", "GET",
                               "/api/service" + std::to_string(i) + "/*"));
    }
    records.push_back(record("Default", 10000, "*", "*", "*"));
    const nlohmann::json page = {{"SamplingRuleRecords", records}, {"NextToken", nullptr}};
    std::string error;
    auto rules = xray::detail::parse_sampling_rules(page.dump(), nullptr, nullptr, &error);
    if (!rules) throw std::runtime_error(error);
    xray::detail::CentralizedOptions options;
    options.start_poller = false;
    cache = std::make_shared<xray::detail::CentralizedRuleCache>(logger, options);
    if (!cache->install_rules(std::move(*rules), cache->now())) {
      throw std::runtime_error("rules not installed");
    }
    strategy = std::make_shared<xray::detail::CentralizedSampling>(
        cache, xray::make_default_sampling());
  }
};

void decide_centralized(benchmark::State& state, const char* url_path, const char* rule) {
  static Centralized* centralized = new Centralized();  // outlives the benchmark threads
  xray::SamplingRequest request;
  request.host = "shop.example.com";
  request.method = "GET";
  request.url_path = url_path;
  request.service_name = "shop";
  request.service_type = "AWS::EC2::Instance";
  if (centralized->strategy->decide(request).rule_name != rule) {
    state.SkipWithError("the centralized rule that decided is not the expected one");
    return;
  }
  for (auto _ : state) {
    auto decision = centralized->strategy->decide(request);
    benchmark::DoNotOptimize(decision.sampled);
  }
}

void BM_CentralizedMiddleRule(benchmark::State& state) {
  decide_centralized(state, "/api/service10/orders/42", "service10");
}
void BM_CentralizedDefaultRule(benchmark::State& state) {
  decide_centralized(state, "/static/app.js", "Default");
}

BENCHMARK(BM_CentralizedMiddleRule);
BENCHMARK(BM_CentralizedDefaultRule);
BENCHMARK(BM_CentralizedMiddleRule)->Threads(2);

// One pattern against one text, by the class the pattern compiles to.
void match_pattern(benchmark::State& state, const char* pattern, const char* text) {
  const xray::detail::WildcardPattern compiled(pattern);
  state.SetLabel(xray::detail::to_string(compiled.kind()));
  for (auto _ : state) {
    auto text_view = std::string_view(text);
    benchmark::DoNotOptimize(text_view);
    benchmark::DoNotOptimize(compiled.matches(text_view));
  }
}
BENCHMARK_CAPTURE(match_pattern, literal, "GET", "GET");
BENCHMARK_CAPTURE(match_pattern, prefix, "/api/service10/*", "/api/service10/orders/42");
BENCHMARK_CAPTURE(match_pattern, suffix, "*.example.com", "shop.example.com");
BENCHMARK_CAPTURE(match_pattern, general, "*.example.*", "shop.example.com");

void BM_WildcardReference(benchmark::State& state) {
  // The uncompiled matcher on the suffix pattern above, for the ratio.
  for (auto _ : state) {
    auto text_view = std::string_view("shop.example.com");
    benchmark::DoNotOptimize(text_view);
    benchmark::DoNotOptimize(xray::wildcard_match("*.example.com", text_view));
  }
}
BENCHMARK(BM_WildcardReference);

void BM_WildcardLongText(benchmark::State& state) {
  const std::string text(static_cast<std::size_t>(state.range(0)), 'a');
  for (auto _ : state) benchmark::DoNotOptimize(xray::wildcard_match("a*b", text));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_WildcardLongText)->Range(1 << 10, 1 << 16)->Complexity();

}  // namespace
BENCHMARK_MAIN();
