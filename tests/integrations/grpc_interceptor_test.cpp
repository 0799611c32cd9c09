// Tests for the gRPC interceptors (xray/grpc.hpp): real gRPC servers and clients on 127.0.0.1
// (ports picked by the OS), the service of grpc_test.proto, and the documents the fake daemon
// received checked field by field. Every test name contains "grpc" (ctest -R grpc).
#include <gmock/gmock.h>
#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "grpc_test.grpc.pb.h"
#include "support/fake_daemon.hpp"
#include "support/test_recorder.hpp"
#include "xray/grpc.hpp"

namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace xray::testing;
using xray::test::Echo;
using xray::test::EchoReply;
using xray::test::EchoRequest;

constexpr char kRoot[] = "1-5759e988-bd862e3fe1be46a994272793";
constexpr char kParent[] = "53995c3f42cd8ad8";
constexpr auto kWait = std::chrono::seconds(5);

// What handlers saw, read by the test thread after the call. Handlers run on gRPC's threads:
// everything here is guarded by `mutex`.
struct HandlerState {
  std::mutex mutex;
  xray::Recorder* recorder = nullptr;  // for downstream calls made by handlers
  std::string current_trace_id;        // xray::current_context() in the last handler
  std::string registered_trace_id;     // xray::grpc::server_context() in the last handler
  std::vector<std::string> headers;    // x-amzn-trace-id received by each handler, in order
  std::vector<std::string> traceparents;  // traceparent received by each handler, in order
};

HandlerState& state() {
  static HandlerState instance;
  return instance;
}

std::string received_header(const grpc::ServerContextBase& context,
                            const char* key = "x-amzn-trace-id") {
  auto found = context.client_metadata().find(key);
  if (found == context.client_metadata().end()) return {};
  return std::string(found->second.data(), found->second.size());
}

void remember(const grpc::ServerContextBase& context) {
  std::string header = received_header(context);
  std::string traceparent = received_header(context, "traceparent");
  std::string current = xray::current_context().trace_id();
  std::string registered = xray::grpc::server_context(context).trace_id();
  std::lock_guard<std::mutex> lock(state().mutex);
  state().headers.push_back(header);
  state().traceparents.push_back(traceparent);
  state().current_trace_id = current;
  state().registered_trace_id = registered;
}

std::shared_ptr<grpc::Channel> traced_channel(const std::string& target, xray::Recorder* recorder) {
  xray::grpc::ClientOptions options;
  options.recorder = recorder;
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      target, grpc::InsecureChannelCredentials(), grpc::ChannelArguments(),
      xray::grpc::client_interceptors(target, options));
}

// The synchronous service: answers with the status the request asks for, after an optional
// traced downstream call.
class SyncEcho final : public Echo::Service {
 public:
  grpc::Status Say(grpc::ServerContext* context, const EchoRequest* request,
                   EchoReply* reply) override {
    remember(*context);
    if (request->throw_exception()) throw std::runtime_error("handler failed");
    if (!request->downstream_target().empty()) {
      xray::Recorder* recorder = nullptr;
      {
        std::lock_guard<std::mutex> lock(state().mutex);
        recorder = state().recorder;
      }
      auto stub = Echo::NewStub(traced_channel(request->downstream_target(), recorder));
      grpc::ClientContext downstream;
      EchoRequest inner;
      inner.set_text("inner");
      EchoReply inner_reply;
      grpc::Status status = stub->Say(&downstream, inner, &inner_reply);
      if (!status.ok()) return status;
    }
    reply->set_text("echo: " + request->text());
    return {static_cast<grpc::StatusCode>(request->status_code()), request->status_message()};
  }

  grpc::Status Stream(grpc::ServerContext* context, const EchoRequest* request,
                      grpc::ServerWriter<EchoReply>* writer) override {
    remember(*context);
    for (int i = 0; i < request->count(); ++i) {
      EchoReply reply;
      reply.set_text(std::to_string(i));
      if (!writer->Write(reply)) break;
    }
    return grpc::Status::OK;
  }
};

// The callback service: the segment is reached through xray::grpc::server_context.
class CallbackEcho final : public Echo::CallbackService {
 public:
  grpc::ServerUnaryReactor* Say(grpc::CallbackServerContext* context, const EchoRequest* request,
                                EchoReply* reply) override {
    remember(*context);
    xray::Recorder* recorder = nullptr;
    {
      std::lock_guard<std::mutex> lock(state().mutex);
      recorder = state().recorder;
    }
    {
      xray::ContextScope attach(xray::grpc::server_context(*context));
      auto work = recorder->begin_subsegment("callback-work");
    }
    reply->set_text("echo: " + request->text());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(
        {static_cast<grpc::StatusCode>(request->status_code()), request->status_message()});
    return reactor;
  }
};

// A server on 127.0.0.1 (port picked by the OS) with the tracing interceptor.
class TestServer {
 public:
  TestServer(grpc::Service* service, const xray::grpc::ServerOptions& options) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service);
    builder.experimental().SetInterceptorCreators(xray::grpc::server_interceptors(options));
    server_ = builder.BuildAndStart();
  }
  ~TestServer() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }
  bool started() const { return server_ != nullptr && port_ > 0; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

class GrpcFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        configure(recorder_, config_for(daemon_, "svc"), {{"AWS_XRAY_NOOP_ID", "false"}}).ok());
    std::lock_guard<std::mutex> lock(state().mutex);
    state().recorder = &recorder_;
    state().headers.clear();
    state().traceparents.clear();
    state().current_trace_id.clear();
    state().registered_trace_id.clear();
  }
  void TearDown() override { EXPECT_THAT(daemon_.errors(), IsEmpty()); }

  xray::grpc::ServerOptions server_options(std::string name) {
    xray::grpc::ServerOptions options;
    options.name = std::move(name);
    options.recorder = &recorder_;
    return options;
  }

  // Every entity received once `count` documents arrived.
  std::vector<json> entities(std::size_t count) {
    EXPECT_TRUE(recorder_.flush(kWait));
    EXPECT_TRUE(daemon_.wait_for_documents(count, kWait));
    auto documents = daemon_.documents();
    EXPECT_EQ(documents.size(), count);
    return flatten(documents);
  }

  static std::string header_of(const grpc::ClientContext& context) {
    auto found = context.GetServerInitialMetadata().find("x-amzn-trace-id");
    if (found == context.GetServerInitialMetadata().end()) return {};
    return std::string(found->second.data(), found->second.size());
  }

  FakeDaemon daemon_;
  xray::Recorder recorder_;
};

// ctest selects these with -R grpc: the suite names carry it.
using grpc_server = GrpcFixture;
using grpc_client = GrpcFixture;
using grpc_callback = GrpcFixture;

TEST_F(grpc_server, UnaryOkAdoptsHeaderRecordsRequestAndAnswersHeader) {
  SyncEcho service;
  TestServer server(&service, server_options("echo"));
  ASSERT_TRUE(server.started());
  auto stub =
      Echo::NewStub(grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("x-amzn-trace-id",
                      std::string("Root=") + kRoot + ";Parent=" + kParent + ";Sampled=1");
  EchoRequest request;
  request.set_text("hi");
  EchoReply reply;
  grpc::Status status = stub->Say(&context, request, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.text(), "echo: hi");
  EXPECT_EQ(header_of(context), std::string("Root=") + kRoot + ";Sampled=1");
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    EXPECT_EQ(state().current_trace_id, kRoot);  // current on the synchronous handler's thread
    EXPECT_EQ(state().registered_trace_id, kRoot);
  }

  auto all = entities(1);
  ASSERT_EQ(all.size(), 1u);
  const json& segment = all[0];
  EXPECT_EQ(segment["name"], "echo");
  EXPECT_EQ(segment["trace_id"], kRoot);
  EXPECT_EQ(segment["parent_id"], kParent);
  EXPECT_EQ(segment["http"]["request"]["method"], "POST");
  EXPECT_EQ(segment["http"]["request"]["url"], "grpc://" + server.target() + "/xray.test.Echo/Say");
  EXPECT_EQ(segment["http"]["request"]["client_ip"], "127.0.0.1");
  EXPECT_THAT(segment["http"]["request"].value("user_agent", ""), HasSubstr("grpc-c++"));
  EXPECT_EQ(segment["http"]["response"]["status"], 200);
  EXPECT_EQ(segment["metadata"]["grpc"]["status"]["status"], "OK");
  EXPECT_EQ(segment["metadata"]["grpc"]["status"]["status_code"], 0);
  EXPECT_FALSE(segment.contains("error"));
  EXPECT_FALSE(segment.contains("fault"));
  EXPECT_FALSE(segment.contains("cause"));
}

TEST_F(grpc_server, SampledZeroRecordsNothingAndAnswersSampledZero) {
  SyncEcho service;
  TestServer server(&service, server_options("echo"));
  ASSERT_TRUE(server.started());
  auto stub =
      Echo::NewStub(grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("x-amzn-trace-id", std::string("Root=") + kRoot + ";Sampled=0");
  EchoReply reply;
  ASSERT_TRUE(stub->Say(&context, EchoRequest(), &reply).ok());
  EXPECT_EQ(header_of(context), std::string("Root=") + kRoot + ";Sampled=0");
  ASSERT_TRUE(recorder_.flush(kWait));
  auto documents = daemon_.documents_received_by_now(kWait);
  ASSERT_TRUE(documents.has_value());
  EXPECT_THAT(*documents, IsEmpty());
}

// Each status class through a traced client and a traced server: the mapping of the issue, the
// flags of spec §9 on both sides, the status in metadata.grpc and the cause.
TEST_F(grpc_client, EachStatusClassMapsToHttpStatusAndFlagsOnBothSides) {
  struct Case {
    grpc::StatusCode code;
    const char* name;
    int http;
    bool error, throttle, fault;
  };
  const Case cases[] = {
      {grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT", 400, true, false, false},
      {grpc::StatusCode::FAILED_PRECONDITION, "FAILED_PRECONDITION", 400, true, false, false},
      {grpc::StatusCode::OUT_OF_RANGE, "OUT_OF_RANGE", 400, true, false, false},
      {grpc::StatusCode::UNAUTHENTICATED, "UNAUTHENTICATED", 401, true, false, false},
      {grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_DENIED", 403, true, false, false},
      {grpc::StatusCode::NOT_FOUND, "NOT_FOUND", 404, true, false, false},
      {grpc::StatusCode::ALREADY_EXISTS, "ALREADY_EXISTS", 409, true, false, false},
      {grpc::StatusCode::ABORTED, "ABORTED", 409, true, false, false},
      {grpc::StatusCode::RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED", 429, true, true, false},
      {grpc::StatusCode::CANCELLED, "CANCELLED", 499, true, false, false},
      {grpc::StatusCode::UNKNOWN, "UNKNOWN", 500, false, false, true},
      {grpc::StatusCode::INTERNAL, "INTERNAL", 500, false, false, true},
      {grpc::StatusCode::DATA_LOSS, "DATA_LOSS", 500, false, false, true},
      {grpc::StatusCode::UNIMPLEMENTED, "UNIMPLEMENTED", 501, false, false, true},
      {grpc::StatusCode::UNAVAILABLE, "UNAVAILABLE", 503, false, false, true},
      {grpc::StatusCode::DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED", 504, false, false, true},
  };
  SyncEcho service;
  TestServer server(&service, server_options("echo"));
  ASSERT_TRUE(server.started());
  auto stub = Echo::NewStub(traced_channel(server.target(), &recorder_));
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(xray::grpc::http_status(c.code), c.http);
    EXPECT_EQ(xray::grpc::status_code_name(c.code), c.name);
    daemon_.clear();
    {
      auto caller = recorder_.begin_segment("caller");
      grpc::ClientContext context;
      EchoRequest request;
      request.set_status_code(static_cast<int>(c.code));
      request.set_status_message(std::string("because ") + c.name);
      EchoReply reply;
      grpc::Status status = stub->Say(&context, request, &reply);
      EXPECT_EQ(status.error_code(), c.code);
    }
    auto all = entities(2);
    const json* server_segment = find_by_name(all, "echo");
    const json* call = find_by_name(all, "127.0.0.1");
    ASSERT_NE(server_segment, nullptr);
    ASSERT_NE(call, nullptr);
    EXPECT_EQ((*call)["namespace"], "remote");
    EXPECT_EQ((*call)["http"]["request"]["url"],
              "grpc://" + server.target() + "/xray.test.Echo/Say");
    EXPECT_EQ((*server_segment)["parent_id"], (*call)["id"]);
    for (const json* entity : {server_segment, call}) {
      EXPECT_EQ((*entity)["http"]["response"]["status"], c.http);
      EXPECT_EQ(entity->value("error", false), c.error);
      EXPECT_EQ(entity->value("throttle", false), c.throttle);
      EXPECT_EQ(entity->value("fault", false), c.fault);
      EXPECT_EQ((*entity)["metadata"]["grpc"]["status"]["status"], c.name);
      EXPECT_EQ((*entity)["metadata"]["grpc"]["status"]["message"],
                std::string("because ") + c.name);
      ASSERT_TRUE(entity->contains("cause"));
      const json& exception = (*entity)["cause"]["exceptions"][0];
      EXPECT_EQ(exception["type"], c.name);
      EXPECT_EQ(exception["message"], std::string("because ") + c.name);
    }
  }
}

TEST_F(grpc_client, ServerStreamingIsOneSubsegmentAndOneSegment) {
  SyncEcho service;
  TestServer server(&service, server_options("echo"));
  ASSERT_TRUE(server.started());
  auto stub = Echo::NewStub(traced_channel(server.target(), &recorder_));
  int replies = 0;
  {
    auto caller = recorder_.begin_segment("caller");
    grpc::ClientContext context;
    EchoRequest request;
    request.set_count(5);
    auto reader = stub->Stream(&context, request);
    EchoReply reply;
    while (reader->Read(&reply)) ++replies;
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_THAT(header_of(context), HasSubstr("Sampled=1"));
  }
  EXPECT_EQ(replies, 5);
  auto all = entities(2);
  ASSERT_EQ(all.size(), 3u) << json(all).dump();  // caller + its subsegment, the server's segment
  const json* call = find_by_name(all, "127.0.0.1");
  const json* segment = find_by_name(all, "echo");
  ASSERT_NE(call, nullptr);
  ASSERT_NE(segment, nullptr);
  EXPECT_EQ((*call)["http"]["request"]["url"],
            "grpc://" + server.target() + "/xray.test.Echo/Stream");
  EXPECT_EQ((*call)["http"]["response"]["status"], 200);
  EXPECT_EQ((*segment)["http"]["response"]["status"], 200);
  EXPECT_EQ((*segment)["parent_id"], (*call)["id"]);
  const json* caller = find_by_name(all, "caller");
  ASSERT_NE(caller, nullptr);
  EXPECT_EQ((*segment)["trace_id"], (*caller)["trace_id"]);
}

// front's handler calls back through a traced channel: the upstream subsegment and the downstream
// segment are joined by parent_id in what the daemon received.
TEST_F(grpc_client, CallFromTracedHandlerJoinsDownstreamSegmentByParentId) {
  SyncEcho back_service;
  TestServer back(&back_service, server_options("back"));
  SyncEcho front_service;
  TestServer front(&front_service, server_options("front"));
  ASSERT_TRUE(back.started() && front.started());
  auto stub =
      Echo::NewStub(grpc::CreateChannel(front.target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  EchoRequest request;
  request.set_downstream_target(back.target());
  EchoReply reply;
  ASSERT_TRUE(stub->Say(&context, request, &reply).ok());

  auto all = entities(2);
  const json* front_segment = find_by_name(all, "front");
  const json* back_segment = find_by_name(all, "back");
  const json* call = find_by_name(all, "127.0.0.1");
  ASSERT_NE(front_segment, nullptr);
  ASSERT_NE(back_segment, nullptr);
  ASSERT_NE(call, nullptr);
  EXPECT_EQ((*back_segment)["trace_id"], (*front_segment)["trace_id"]);
  EXPECT_EQ((*back_segment)["parent_id"], (*call)["id"]);
  EXPECT_FALSE(front_segment->contains("parent_id"));
  // The call is embedded in the front segment (current on the handler's thread).
  ASSERT_TRUE(front_segment->contains("subsegments"));
  EXPECT_EQ((*front_segment)["subsegments"][0]["id"], (*call)["id"]);
}

TEST_F(grpc_server, IncomingLineageReachesTheDownstreamCall) {
  SyncEcho back_service;
  TestServer back(&back_service, server_options("back"));
  SyncEcho front_service;
  TestServer front(&front_service, server_options("front"));
  ASSERT_TRUE(back.started() && front.started());
  auto stub =
      Echo::NewStub(grpc::CreateChannel(front.target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("x-amzn-trace-id", std::string("Root=") + kRoot + ";Parent=" + kParent +
                                             ";Sampled=1;Lineage=a87bd80c:1|68fd508a:5");
  EchoRequest request;
  request.set_downstream_target(back.target());
  EchoReply reply;
  ASSERT_TRUE(stub->Say(&context, request, &reply).ok());

  auto all = entities(2);
  const json* call = find_by_name(all, "127.0.0.1");
  ASSERT_NE(call, nullptr);
  std::vector<std::string> headers;
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    headers = state().headers;
  }
  ASSERT_EQ(headers.size(), 2u);  // front's, then back's
  EXPECT_EQ(headers[1], std::string("Root=") + kRoot + ";Parent=" + call->value("id", "") +
                            ";Sampled=1;Lineage=a87bd80c:1|68fd508a:5");
  const json* back_segment = find_by_name(all, "back");
  ASSERT_NE(back_segment, nullptr);
  EXPECT_EQ((*back_segment)["trace_id"], kRoot);
}

std::mutex log_mutex;
std::vector<std::string> log_lines;  // guarded by log_mutex

void capture_log(gpr_log_func_args* args) {
  std::lock_guard<std::mutex> lock(log_mutex);
  log_lines.emplace_back(args->message);
}

TEST_F(grpc_server, MalformedHeaderIsLoggedAndStartsANewTrace) {
  gpr_set_log_function(capture_log);
  SyncEcho service;
  TestServer server(&service, server_options("echo"));
  ASSERT_TRUE(server.started());
  auto stub =
      Echo::NewStub(grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("x-amzn-trace-id", "Root=1-garbage;Parent=not-an-id;;=;Sampled");
  EchoReply reply;
  ASSERT_TRUE(stub->Say(&context, EchoRequest(), &reply).ok());
  auto all = entities(1);
  gpr_set_log_function(nullptr);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(xray::TraceHeader::is_valid_root(all[0].value("trace_id", "")));
  EXPECT_NE(all[0]["trace_id"], "1-garbage");
  EXPECT_FALSE(all[0].contains("parent_id"));
  EXPECT_EQ(all[0]["http"]["response"]["status"], 200);
  EXPECT_THAT(header_of(context), HasSubstr("Root=" + all[0].value("trace_id", "")));
  std::lock_guard<std::mutex> lock(log_mutex);
  bool logged = false;
  for (const auto& line : log_lines)
    logged = logged || line.find("aws-xray: ignoring a malformed") == 0;
  EXPECT_TRUE(logged);
}

TEST_F(grpc_server, HandlerThatThrowsIsAFaultWithItsCause) {
  SyncEcho service;
  TestServer server(&service, server_options("echo"));
  ASSERT_TRUE(server.started());
  auto stub =
      Echo::NewStub(grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  EchoRequest request;
  request.set_throw_exception(true);
  EchoReply reply;
  grpc::Status status = stub->Say(&context, request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);  // gRPC's own answer to a throw
  auto all = entities(1);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["http"]["response"]["status"], 500);
  EXPECT_TRUE(all[0].value("fault", false));
  EXPECT_EQ(all[0]["cause"]["exceptions"][0]["type"], "UNKNOWN");
  EXPECT_EQ(all[0]["cause"]["exceptions"][0]["message"], status.error_message());
}

TEST_F(grpc_client, HeaderAlreadyInTheMetadataIsReplaced) {
  SyncEcho service;
  TestServer server(&service, server_options("echo"));
  ASSERT_TRUE(server.started());
  auto stub = Echo::NewStub(traced_channel(server.target(), &recorder_));
  std::string caller_trace;
  {
    auto caller = recorder_.begin_segment("caller");
    caller_trace = caller.trace_id();
    grpc::ClientContext context;
    context.AddMetadata("x-amzn-trace-id",
                        std::string("Root=") + kRoot + ";Parent=" + kParent + ";Sampled=1");
    EchoReply reply;
    ASSERT_TRUE(stub->Say(&context, EchoRequest(), &reply).ok());
  }
  auto all = entities(2);
  const json* segment = find_by_name(all, "echo");
  const json* call = find_by_name(all, "127.0.0.1");
  ASSERT_NE(segment, nullptr);
  ASSERT_NE(call, nullptr);
  EXPECT_EQ((*segment)["trace_id"], caller_trace);
  EXPECT_EQ((*segment)["parent_id"], (*call)["id"]);
  std::lock_guard<std::mutex> lock(state().mutex);
  ASSERT_EQ(state().headers.size(), 1u);
  EXPECT_THAT(state().headers[0], ::testing::Not(HasSubstr(kRoot)));
}

// OpenTelemetry neighbours: a server that accepts a lone traceparent continues its trace; a client
// that injects one sends its own subsegment as the parent.
TEST_F(grpc_server, AcceptedTraceparentContinuesItsTrace) {
  SyncEcho service;
  xray::grpc::ServerOptions options = server_options("echo");
  options.accept_traceparent = true;
  TestServer server(&service, options);
  ASSERT_TRUE(server.started());
  auto stub =
      Echo::NewStub(grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials()));
  // A W3C trace id X-Ray can take: its first 8 hex digits are the current second.
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  char start[9];
  std::snprintf(start, sizeof start, "%08llx", static_cast<unsigned long long>(now.count()));
  const std::string w3c = std::string(start) + "a3ce929d0e0e4736a3ce929d";
  grpc::ClientContext context;
  context.AddMetadata("traceparent", "00-" + w3c + "-00f067aa0ba902b7-01");
  EchoReply reply;
  ASSERT_TRUE(stub->Say(&context, EchoRequest(), &reply).ok());
  const std::string root = "1-" + w3c.substr(0, 8) + "-" + w3c.substr(8);
  EXPECT_EQ(header_of(context), "Root=" + root + ";Sampled=1");
  auto all = entities(1);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["trace_id"], root);
  EXPECT_EQ(all[0]["parent_id"], "00f067aa0ba902b7");
}

TEST_F(grpc_client, InjectedTraceparentNamesTheCallsSubsegment) {
  SyncEcho service;
  TestServer server(&service, server_options("echo"));
  ASSERT_TRUE(server.started());
  xray::grpc::ClientOptions options;
  options.recorder = &recorder_;
  options.inject_traceparent = true;
  auto stub = Echo::NewStub(grpc::experimental::CreateCustomChannelWithInterceptors(
      server.target(), grpc::InsecureChannelCredentials(), grpc::ChannelArguments(),
      xray::grpc::client_interceptors(server.target(), options)));
  {
    auto caller = recorder_.begin_segment(
        "caller", xray::TraceHeader::parse(std::string("Root=") + kRoot + ";Sampled=1"));
    grpc::ClientContext context;
    context.AddMetadata("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    EchoReply reply;
    ASSERT_TRUE(stub->Say(&context, EchoRequest(), &reply).ok());
  }
  auto all = entities(2);
  const json* call = find_by_name(all, "127.0.0.1");
  ASSERT_NE(call, nullptr);
  std::lock_guard<std::mutex> lock(state().mutex);
  ASSERT_EQ(state().traceparents.size(), 1u);
  EXPECT_EQ(state().traceparents[0],
            "00-5759e988bd862e3fe1be46a994272793-" + (*call)["id"].get<std::string>() + "-01");
}

TEST_F(grpc_client, DeadlineExceededIsAFault) {
  SyncEcho service;
  TestServer server(&service, server_options("echo"));
  ASSERT_TRUE(server.started());
  auto stub = Echo::NewStub(traced_channel(server.target(), &recorder_));
  {
    auto caller = recorder_.begin_segment("caller");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() - std::chrono::seconds(1));  // passed
    EchoReply reply;
    EXPECT_EQ(stub->Say(&context, EchoRequest(), &reply).error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  auto all = entities(1);
  const json* call = find_by_name(all, "127.0.0.1");
  ASSERT_NE(call, nullptr);
  EXPECT_EQ((*call)["http"]["response"]["status"], 504);
  EXPECT_TRUE(call->value("fault", false));
  EXPECT_EQ((*call)["cause"]["exceptions"][0]["type"], "DEADLINE_EXCEEDED");
  EXPECT_TRUE((*call)["cause"]["exceptions"][0].value("remote", false));
}

// The callback API on both sides: the call starts under the caller's current segment, completes on
// gRPC's threads; the handler reaches its segment through xray::grpc::server_context.
TEST_F(grpc_callback, UnaryCallbackClientAndServerAreJoined) {
  CallbackEcho service;
  TestServer server(&service, server_options("echo"));
  ASSERT_TRUE(server.started());
  auto stub = Echo::NewStub(traced_channel(server.target(), &recorder_));

  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  grpc::Status result;
  grpc::ClientContext context;
  EchoRequest request;
  request.set_text("cb");
  EchoReply reply;
  std::string caller_trace;
  {
    auto caller = recorder_.begin_segment("caller");
    caller_trace = caller.trace_id();
    stub->async()->Say(&context, &request, &reply, [&](grpc::Status status) {
      std::lock_guard<std::mutex> lock(mutex);
      result = std::move(status);
      done = true;
      done_cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(done_cv.wait_for(lock, kWait, [&] { return done; }));
  }
  ASSERT_TRUE(result.ok()) << result.error_message();
  EXPECT_EQ(reply.text(), "echo: cb");
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    EXPECT_EQ(state().registered_trace_id, caller_trace);
    EXPECT_EQ(state().current_trace_id, "");  // nothing attached on gRPC's callback threads
  }
  auto all = entities(2);
  const json* segment = find_by_name(all, "echo");
  const json* call = find_by_name(all, "127.0.0.1");
  ASSERT_NE(segment, nullptr);
  ASSERT_NE(call, nullptr);
  EXPECT_EQ((*segment)["trace_id"], caller_trace);
  EXPECT_EQ((*segment)["parent_id"], (*call)["id"]);
  EXPECT_EQ((*segment)["http"]["response"]["status"], 200);
  ASSERT_TRUE(segment->contains("subsegments"));
  EXPECT_EQ((*segment)["subsegments"][0]["name"], "callback-work");
}

TEST_F(grpc_callback, CallbackServerStatusIsRecorded) {
  CallbackEcho service;
  TestServer server(&service, server_options("echo"));
  ASSERT_TRUE(server.started());
  auto stub =
      Echo::NewStub(grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  EchoRequest request;
  request.set_status_code(static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
  EchoReply reply;
  EXPECT_EQ(stub->Say(&context, request, &reply).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(header_of(context), HasSubstr("Sampled=1"));
  auto all = entities(1);
  const json* segment = find_by_name(all, "echo");
  ASSERT_NE(segment, nullptr);
  EXPECT_EQ((*segment)["http"]["response"]["status"], 429);
  EXPECT_TRUE(segment->value("throttle", false));
  EXPECT_TRUE(segment->value("error", false));
  EXPECT_FALSE(segment->value("fault", false));
}

}  // namespace
