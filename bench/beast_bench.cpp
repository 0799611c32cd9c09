// What the Beast middleware adds to a request, without sockets: examples/helloworld's handler
// (200 "Hello World") called on a parsed request with the headers ApacheBench sends, untraced and
// wrapped with xray::beast::traced. The difference is the SDK's cost per request on the server
// thread (the middleware and the recorder); bench/helloworld_ab.sh measures it end to end.
//
//   BM_Untraced                    the handler alone
//   BM_Traced/<case>
//     disabled                     AWS_XRAY_SDK_ENABLED=false (Config::enabled = false)
//     unsampled                    upstream `Root=...;Sampled=0`
//     default_sampler              no upstream header: the default rule (1/s, then 5%)
//     sampled                      upstream `Root=...;Sampled=1`, default pacing (most documents
//                                  are dropped at the queue, as under ab)
//
// Documents go to a loopback socket that nobody reads (the kernel drops what does not fit).
//
// Build: cmake -S . -B build/bench -DXRAY_BUILD_BENCHMARKS=ON -DCMAKE_BUILD_TYPE=Release &&
//        cmake --build build/bench --target beast_bench
// Run:   build/bench/bench/beast_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <boost/beast/http.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "xray/beast.hpp"
#include "xray/recorder.hpp"

namespace {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr char kPeer[] = "127.0.0.1";

// helloworld's handler for GET /helloworld.
Response hello(const Request& request) {
  Response response{http::status::ok, request.version()};
  response.set(http::field::content_type, "text/plain");
  response.body() = "Hello World";
  response.prepare_payload();
  return response;
}

// What `ab -k` sends, plus the trace header when there is one.
Request ab_request(const char* trace_header) {
  Request request{http::verb::get, "/helloworld", 10};
  request.set(http::field::host, "127.0.0.1:8000");
  request.set(http::field::user_agent, "ApacheBench/2.3");
  request.set(http::field::accept, "*/*");
  request.set(http::field::connection, "Keep-Alive");
  if (trace_header != nullptr) request.set("X-Amzn-Trace-Id", trace_header);
  return request;
}

// A bound UDP socket on 127.0.0.1 that nobody reads: the documents' destination.
std::string sink_address() {
  static const std::string address = [] {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local);
    socklen_t length = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
    return "127.0.0.1:" + std::to_string(ntohs(local.sin_port));  // fd kept for the process
  }();
  return address;
}

enum Case : int { kDisabled, kUnsampled, kDefaultSampler, kSampled };

xray::Recorder& recorder_for(Case which) {
  static xray::Recorder* recorders[4] = {};
  static std::once_flag once[4];
  std::call_once(once[which], [which] {
    auto* recorder = new xray::Recorder();  // kept for the process, like the global one
    xray::Config config;
    config.service_name = "helloworld";
    config.daemon_address = sink_address();
    config.log_level = xray::LogLevel::kSilent;
    config.enabled = which != kDisabled;
    recorder->configure(config);
    recorders[which] = recorder;
  });
  return *recorders[which];
}

void BM_Untraced(benchmark::State& state) {
  const Request request = ab_request(nullptr);
  for (auto _ : state) {
    Response response = hello(request);
    benchmark::DoNotOptimize(response);
  }
}
BENCHMARK(BM_Untraced);

void BM_Traced(benchmark::State& state) {
  const auto which = static_cast<Case>(state.range(0));
  xray::beast::ServerOptions options;
  options.recorder = &recorder_for(which);
  auto handler = xray::beast::traced(hello, options);
  const Request request = ab_request(
      which == kUnsampled  ? "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0"
      : which == kSampled ? "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
                          : nullptr);
  for (auto _ : state) {
    Response response = handler(request, kPeer);
    benchmark::DoNotOptimize(response);
  }
}
BENCHMARK(BM_Traced)
    ->ArgName("case")
    ->Arg(kDisabled)
    ->Arg(kUnsampled)
    ->Arg(kDefaultSampler)
    ->Arg(kSampled);

}  // namespace

BENCHMARK_MAIN();
