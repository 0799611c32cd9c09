// The request of the performance issue, as the app thread pays for it: a segment from an upstream
// header, three subsegments with one string annotation each, all ended and handed off, with the
// real emitter running and a receiver thread draining its loopback socket (so what is measured is
// the request path, not a full socket buffer).
//
//   BM_Request/<case>/threads:N
//     sampled_paced    upstream Sampled=1, default pacing: most documents are counted as dropped at
//                      the queue (a loop ends far more segments than the pace sends), so the drop
//                      path is what this mostly measures
//     sampled_unpaced  upstream Sampled=1, pacing off: every document is serialized and sent
//     unsampled        upstream Sampled=0
//     default_sampler  no decision upstream: the default rule (1/s, then 5%) decides
//
// Counters: `sent` and `dropped` documents per request, so a figure is read with its losses.
//
// Build: cmake -S . -B build/bench -DXRAY_BUILD_BENCHMARKS=ON -DCMAKE_BUILD_TYPE=Release &&
//        cmake --build build/bench --target request_bench
// Run:   build/bench/bench/request_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include "draining_receiver.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "xray/recorder.hpp"

namespace {

using xray::bench::DrainingReceiver;

enum Case : int { kSampledPaced, kSampledUnpaced, kUnsampled, kDefaultSampler };

// One recorder (and receiver) per case, shared by the benchmark's threads, kept for the process.
xray::Recorder& recorder_for(Case which) {
  static DrainingReceiver receiver;
  static xray::Recorder* recorders[4] = {};
  static std::once_flag once[4];
  std::call_once(once[which], [which] {
    auto* recorder = new xray::Recorder();
    xray::Config config;
    config.service_name = "bench";
    config.daemon_address = receiver.address();
    config.log_level = xray::LogLevel::kSilent;
    config.sampling = which == kDefaultSampler ? xray::Sampling::local_default() : false;
    if (which == kSampledUnpaced) config.emit_rate = 0;
    recorder->configure(config);
    recorders[which] = recorder;
  });
  return *recorders[which];
}

void BM_Request(benchmark::State& state) {
  const auto which = static_cast<Case>(state.range(0));
  xray::Recorder& recorder = recorder_for(which);
  const xray::TraceHeader upstream = xray::TraceHeader::parse(
      which == kUnsampled         ? "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0"
      : which == kDefaultSampler ? ""
                                  : "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
  const xray::Stats before = recorder.stats();
  for (auto _ : state) {
    auto segment = recorder.begin_segment("request", upstream);
    for (const char* name : {"validate", "query", "render"}) {
      auto sub = recorder.begin_subsegment(name);
      sub.put_annotation("step", name);
    }
  }
  if (state.thread_index() == 0) {
    const xray::Stats after = recorder.stats();
    const double requests = static_cast<double>(state.iterations()) * state.threads();
    state.counters["sent"] = static_cast<double>(after.emitted - before.emitted) / requests;
    state.counters["dropped"] =
        static_cast<double>(after.dropped_queue_full - before.dropped_queue_full) / requests;
  }
}

void cases(benchmark::internal::Benchmark* benchmark) {
  benchmark->ArgName("case");
  for (int which : {kSampledPaced, kSampledUnpaced, kUnsampled, kDefaultSampler}) {
    benchmark->Arg(which);
  }
}
BENCHMARK(BM_Request)->Apply(cases)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
