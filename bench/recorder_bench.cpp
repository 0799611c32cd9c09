// Request-path benchmarks for the recorder: what instrumentation costs a request thread.
//
//   BM_UnsampledRequest: begin a segment whose upstream said Sampled=0, two subsegments with
//     annotations, the outbound header for a downstream call. The "unsampled costs almost nothing"
//     claim of the core issue.
//   BM_SampledSubsegment: begin/annotate/end one subsegment under a long-lived sampled segment
//     (streaming hands completed subtrees to the emitter, which sends them to a closed port).
//   BM_TraceHeaderParse / BM_TraceHeaderToString: the header work of every traced request.
//
// Build: cmake --preset bench && cmake --build build/bench && build/bench/bench/recorder_bench
#include <benchmark/benchmark.h>

#include "bench_recorder.hpp"
#include "xray/recorder.hpp"

namespace {

using xray::bench::bench_recorder;

void BM_UnsampledRequest(benchmark::State& state) {
  xray::Recorder& recorder = bench_recorder();
  const auto upstream = xray::TraceHeader::parse(
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0");
  for (auto _ : state) {
    auto segment = recorder.begin_segment("bench", upstream);
    segment.put_annotation("customer_id", 42);
    {
      auto db = recorder.begin_subsegment("db");
      db.put_annotation("table", "orders");
    }
    auto call = recorder.begin_subsegment("downstream");
    benchmark::DoNotOptimize(call.outbound_header());
  }
}
BENCHMARK(BM_UnsampledRequest);

void BM_SampledSubsegment(benchmark::State& state) {
  xray::Recorder& recorder = bench_recorder();
  auto segment = recorder.begin_segment("bench", xray::TraceHeader::parse("Sampled=1"));
  for (auto _ : state) {
    auto sub = recorder.begin_subsegment("work");
    sub.put_annotation("n", 1);
  }
}
BENCHMARK(BM_SampledSubsegment);

void BM_TraceHeaderParse(benchmark::State& state) {
  const std::string value =
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:"
      "1";
  for (auto _ : state) benchmark::DoNotOptimize(xray::TraceHeader::parse(value));
}
BENCHMARK(BM_TraceHeaderParse);

void BM_TraceHeaderToString(benchmark::State& state) {
  const auto header = xray::TraceHeader::parse(
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:"
      "1");
  for (auto _ : state) benchmark::DoNotOptimize(header.to_string());
}
BENCHMARK(BM_TraceHeaderToString);

}  // namespace

BENCHMARK_MAIN();
