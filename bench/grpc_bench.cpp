// The per-RPC cost of the gRPC interceptors: a unary RPC on loopback (sync client and server in one
// process), untraced against traced on both sides.
//
//   BM_UnaryUntraced: no interceptors.
//   BM_UnaryNoopInterceptors: an interceptor on each side that only proceeds: what gRPC's
//     interception path costs by itself.
//   BM_UnaryTraced: the server interceptor (a segment per call, its response header) and the
//     client interceptor (a remote subsegment under a long-lived sampled segment, the header
//     injected); documents go to a UDP socket bound on loopback that nobody reads (the kernel drops
//     what overflows its buffer), so sending costs what it costs next to a real daemon.
//   BM_UnaryTracedUnsampled: the same, the caller's segment unsampled (Sampled=0 travels).
//
// Build: cmake -B build/bench -DCMAKE_BUILD_TYPE=Release -DXRAY_BUILD_BENCHMARKS=ON
//        cmake --build build/bench --target grpc_bench
// Run:   build/bench/bench/grpc_bench --benchmark_repetitions=5
// --benchmark_report_aggregates_only=true
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "grpc_test.grpc.pb.h"
#include "xray/grpc.hpp"

namespace {

// A recorder that samples everything and sends to a bound, never-read loopback UDP socket.
xray::Recorder& bench_recorder() {
  static xray::Recorder* recorder = [] {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);  // fd stays open
    auto* r = new xray::Recorder();  // never destroyed: usable until the process exits
    xray::Config config;
    config.service_name = "bench";
    config.daemon_address = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
    config.sampling = false;
    config.log_level = xray::LogLevel::kSilent;
    r->configure(config);
    return r;
  }();
  return *recorder;
}
using xray::test::Echo;
using xray::test::EchoReply;
using xray::test::EchoRequest;

// An interceptor that does nothing but proceed, and its factories.
class Noop final : public grpc::experimental::Interceptor {
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }
};
struct NoopServerFactory final : grpc::experimental::ServerInterceptorFactoryInterface {
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo*) override {
    return new Noop;
  }
};
struct NoopClientFactory final : grpc::experimental::ClientInterceptorFactoryInterface {
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new Noop;
  }
};

enum class Mode { kNone, kNoop, kTraced };

class EchoService final : public Echo::Service {
  grpc::Status Say(grpc::ServerContext*, const EchoRequest* request, EchoReply* reply) override {
    reply->set_text(request->text());
    return grpc::Status::OK;
  }
};

struct Loopback {
  explicit Loopback(Mode mode) {
    const bool traced = mode == Mode::kTraced;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    if (traced) {
      xray::grpc::ServerOptions options;
      options.name = "bench-server";
      options.recorder = &bench_recorder();
      builder.experimental().SetInterceptorCreators(xray::grpc::server_interceptors(options));
    } else if (mode == Mode::kNoop) {
      std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
      creators.push_back(std::make_unique<NoopServerFactory>());
      builder.experimental().SetInterceptorCreators(std::move(creators));
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
    } else if (mode == Mode::kNoop) {
      std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> creators;
      creators.push_back(std::make_unique<NoopClientFactory>());
      channel = grpc::experimental::CreateCustomChannelWithInterceptors(
          bound, grpc::InsecureChannelCredentials(), grpc::ChannelArguments(), std::move(creators));
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

void run(benchmark::State& state, Mode mode, const char* upstream) {
  Loopback loopback(mode);
  auto caller = bench_recorder().begin_segment("bench-client", xray::TraceHeader::parse(upstream));
  for (auto _ : state) {
    if (!loopback.call()) {
      state.SkipWithError("RPC failed");
      break;
    }
  }
}

void BM_UnaryUntraced(benchmark::State& state) { run(state, Mode::kNone, "Sampled=1"); }
void BM_UnaryNoopInterceptors(benchmark::State& state) { run(state, Mode::kNoop, "Sampled=1"); }
void BM_UnaryTraced(benchmark::State& state) { run(state, Mode::kTraced, "Sampled=1"); }
void BM_UnaryTracedUnsampled(benchmark::State& state) { run(state, Mode::kTraced, "Sampled=0"); }

// Wall time per RPC, and the CPU time of the whole process (client, server, gRPC's threads and the
// emitter) per RPC: the second is what tracing costs, the first is what a caller waits.
BENCHMARK(BM_UnaryUntraced)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_UnaryNoopInterceptors)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_UnaryTraced)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_UnaryTracedUnsampled)->MeasureProcessCPUTime()->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
