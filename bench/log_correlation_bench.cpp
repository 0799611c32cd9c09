// What log correlation costs per log line (xray/log_correlation.hpp): reading the current ids,
// inside a sampled segment, inside an unsampled one, and with nothing current; against building
// the same text from Context's string accessors.
#include <benchmark/benchmark.h>

#include <string>

#include "bench_recorder.hpp"
#include "xray/context.hpp"
#include "xray/log_correlation.hpp"

namespace {

using xray::bench::bench_recorder;

void BM_CurrentLogTraceId_Sampled(benchmark::State& state) {
  auto segment = bench_recorder().begin_segment("bench");
  auto subsegment = bench_recorder().begin_subsegment("work");
  for (auto _ : state) {
    xray::LogTraceId ids = xray::current_log_trace_id();
    benchmark::DoNotOptimize(ids);
  }
}
BENCHMARK(BM_CurrentLogTraceId_Sampled);

void BM_CurrentLogTraceId_Unsampled(benchmark::State& state) {
  auto segment = bench_recorder().begin_segment("bench", xray::TraceHeader::parse("Sampled=0"));
  for (auto _ : state) {
    xray::LogTraceId ids = xray::current_log_trace_id();
    benchmark::DoNotOptimize(ids);
  }
}
BENCHMARK(BM_CurrentLogTraceId_Unsampled);

void BM_CurrentLogTraceId_NothingCurrent(benchmark::State& state) {
  for (auto _ : state) {
    xray::LogTraceId ids = xray::current_log_trace_id();
    benchmark::DoNotOptimize(ids);
  }
}
BENCHMARK(BM_CurrentLogTraceId_NothingCurrent);

// The baseline a user would write without it: a Context copy and two strings.
void BM_ContextStrings_Sampled(benchmark::State& state) {
  auto segment = bench_recorder().begin_segment("bench");
  for (auto _ : state) {
    const xray::Context context = xray::current_context();
    std::string text = context.trace_id() + "@" + context.entity_id();
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_ContextStrings_Sampled);

}  // namespace

BENCHMARK_MAIN();
