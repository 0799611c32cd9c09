// The per-RPC cost of the gRPC interceptors: a unary RPC on loopback (sync client and server in one
// process), untraced against traced on both sides.
//
//   BM_UnaryUntraced: no interceptors.
//   BM_UnaryTraced: the server interceptor (a segment per call, its response header) and the
//     client interceptor (a remote subsegment under a long-lived sampled segment, the header
//     injected); documents go to the discard port (bench_recorder.hpp).
//   BM_UnaryTracedUnsampled: the same, the caller's segment unsampled (Sampled=0 travels).
//
// Build: cmake -B build/bench -DCMAKE_BUILD_TYPE=Release -DXRAY_BUILD_BENCHMARKS=ON
//        cmake --build build/bench --target grpc_bench
// Run:   build/bench/bench/grpc_bench --benchmark_repetitions=5
// --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "bench_recorder.hpp"
#include "grpc_test.grpc.pb.h"
#include "xray/grpc.hpp"

namespace {

using xray::bench::bench_recorder;
using xray::test::Echo;
using xray::test::EchoReply;
using xray::test::EchoRequest;

class EchoService final : public Echo::Service {
  grpc::Status Say(grpc::ServerContext*, const EchoRequest* request, EchoReply* reply) override {
    reply->set_text(request->text());
    return grpc::Status::OK;
  }
};

struct Loopback {
  explicit Loopback(bool traced) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    if (traced) {
      xray::grpc::ServerOptions options;
      options.name = "bench-server";
      options.recorder = &bench_recorder();
      builder.experimental().SetInterceptorCreators(xray::grpc::server_interceptors(options));
    }
    server = builder.BuildAndStart();
    const std::string bound = "127.0.0.1:" + std::to_string(port);
    std::shared_ptr<grpc::Channel> channel;
    if (traced) {
      xray::grpc::ClientOptions options;
      options.recorder = &bench_recorder();
      channel = grpc::experimental::CreateCustomChannelWithInterceptors(
          bound, grpc::InsecureChannelCredentials(), grpc::ChannelArguments(),
          xray::grpc::client_interceptors(bound, options));
    } else {
      channel = grpc::CreateChannel(bound, grpc::InsecureChannelCredentials());
    }
    stub = Echo::NewStub(channel);
  }
  ~Loopback() { server->Shutdown(); }

  bool call() {
    grpc::ClientContext context;
    EchoRequest request;
    request.set_text("ping");
    EchoReply reply;
    return stub->Say(&context, request, &reply).ok();
  }

  int port = 0;
  EchoService service;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<Echo::Stub> stub;
};

void run(benchmark::State& state, bool traced, const char* upstream) {
  Loopback loopback(traced);
  auto caller = bench_recorder().begin_segment("bench-client", xray::TraceHeader::parse(upstream));
  for (auto _ : state) {
    if (!loopback.call()) {
      state.SkipWithError("RPC failed");
      break;
    }
  }
}

void BM_UnaryUntraced(benchmark::State& state) { run(state, false, "Sampled=1"); }
void BM_UnaryTraced(benchmark::State& state) { run(state, true, "Sampled=1"); }
void BM_UnaryTracedUnsampled(benchmark::State& state) { run(state, true, "Sampled=0"); }

// Wall time per RPC, and the CPU time of the whole process (client, server, gRPC's threads and the
// emitter) per RPC: the second is what tracing costs, the first is what a caller waits.
BENCHMARK(BM_UnaryUntraced)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_UnaryTraced)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_UnaryTracedUnsampled)->MeasureProcessCPUTime()->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
