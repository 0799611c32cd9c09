// Sampling decisions with local rules (spec §7.2): the cost of one decide() with 20 rules when the
// first rule matches, when a middle one does, and when none does (the default decides). Uses the
// real clock and the real draw, as in production.
//
//   cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DXRAY_BUILD_BENCHMARKS=ON
//   ninja -C build-bench sampling_bench && build-bench/bench/sampling_bench
#include <benchmark/benchmark.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "sampling/local_rules.hpp"
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

void BM_WildcardLongText(benchmark::State& state) {
  const std::string text(static_cast<std::size_t>(state.range(0)), 'a');
  for (auto _ : state) benchmark::DoNotOptimize(xray::wildcard_match("a*b", text));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_WildcardLongText)->Range(1 << 10, 1 << 16)->Complexity();

}  // namespace
BENCHMARK_MAIN();
