// grpc_greeter: gRPC's greeter, traced end to end with AWSXRay::grpc.
//
//   grpc_greeter server [--port N]             serves Greeter.SayHello (port 0: the OS chooses,
//                                              printed as "grpc_greeter listening on port N")
//   grpc_greeter client --target HOST:PORT [--name WHO]
//                                              one traced call under a "greeter-client" segment
//   grpc_greeter --self-test                   both in one process on a free port (ctest smoke
//   test)
//
// Tracing is two lines, one on the server builder and one on the channel (marked "X-Ray" below).
// The server's segment ("greeter-server") becomes the child of the client's remote subsegment:
// its x-amzn-trace-id metadata carries the subsegment's id as Parent.
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include "greeter.grpc.pb.h"
#include "xray/grpc.hpp"
#include "xray/xray.hpp"

namespace {

class GreeterService final : public greeter::Greeter::Service {
  grpc::Status SayHello(grpc::ServerContext*, const greeter::HelloRequest* request,
                        greeter::HelloReply* reply) override {
    // The request's segment is current here (synchronous API): this subsegment nests under it.
    xray::SubsegmentScope work = xray::Recorder::global().begin_subsegment("compose-greeting");
    work.put_annotation("who", request->name());
    reply->set_message("Hello " + request->name());
    return grpc::Status::OK;
  }
};

std::unique_ptr<grpc::Server> start_server(GreeterService& service, int& port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  // X-Ray: every incoming RPC becomes a "greeter-server" segment.
  builder.experimental().SetInterceptorCreators(xray::grpc::server_interceptors("greeter-server"));
  return builder.BuildAndStart();
}

// One traced call; returns the reply's message, or "" with the status printed.
std::string call(const std::string& target, const std::string& name) {
  // X-Ray: every outgoing RPC becomes a remote subsegment with x-amzn-trace-id injected.
  auto channel = grpc::experimental::CreateCustomChannelWithInterceptors(
      target, grpc::InsecureChannelCredentials(), grpc::ChannelArguments(),
      xray::grpc::client_interceptors(target));
  auto stub = greeter::Greeter::NewStub(channel);
  xray::SegmentScope segment = xray::Recorder::global().begin_segment("greeter-client");
  grpc::ClientContext context;
  greeter::HelloRequest request;
  request.set_name(name);
  greeter::HelloReply reply;
  grpc::Status status = stub->SayHello(&context, request, &reply);
  if (!status.ok()) {
    std::cerr << "SayHello failed: " << status.error_code() << " " << status.error_message()
              << "\n";
    return {};
  }
  auto header = context.GetServerInitialMetadata().find("x-amzn-trace-id");
  if (header != context.GetServerInitialMetadata().end()) {
    std::cout << "response x-amzn-trace-id: "
              << std::string_view(header->second.data(), header->second.size()) << "\n";
  }
  std::cout << "trace " << segment.trace_id() << ": " << reply.message() << "\n";
  return reply.message();
}

int usage() {
  std::cerr << "usage: grpc_greeter server [--port N] | client --target HOST:PORT [--name WHO] | "
               "--self-test\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  xray::Config config;
  config.service_name = "greeter";
  xray::Recorder::global().configure(config);

  std::string mode = argc > 1 ? argv[1] : "";
  int port = 50051;
  std::string target;
  std::string name = "world";
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--port")
      port = std::atoi(argv[i + 1]);
    else if (flag == "--target")
      target = argv[i + 1];
    else if (flag == "--name")
      name = argv[i + 1];
    else
      return usage();
  }

  if (mode == "--self-test") {
    GreeterService service;
    port = 0;
    auto server = start_server(service, port);
    if (!server) return 1;
    bool ok = call("127.0.0.1:" + std::to_string(port), "self-test") == "Hello self-test";
    server->Shutdown();
    xray::Recorder::global().flush(std::chrono::seconds(2));
    return ok ? 0 : 1;
  }
  if (mode == "server") {
    // Block the stop signals before gRPC starts threads, then wait for one here.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    GreeterService service;
    auto server = start_server(service, port);
    if (!server) return 1;
    std::cout << "grpc_greeter listening on port " << port << std::endl;
    int signal = 0;
    sigwait(&stop, &signal);
    server->Shutdown();
    xray::Recorder::global().flush(std::chrono::seconds(2));
    return 0;
  }
  if (mode == "client" && !target.empty()) {
    bool ok = !call(target, name).empty();
    xray::Recorder::global().flush(std::chrono::seconds(2));
    return ok ? 0 : 1;
  }
  return usage();
}
