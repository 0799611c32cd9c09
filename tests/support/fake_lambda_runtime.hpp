// Test fixture: a fake AWS Lambda Runtime API (the interface a custom runtime such as
// aws-lambda-cpp polls, AWS_LAMBDA_RUNTIME_API) on 127.0.0.1:0, serving a fixed list of
// invocations, with a fake X-Ray daemon beside it to say what had been traced by the time each
// result was posted.
//
//   xray::testing::FakeDaemon daemon;
//   xray::testing::FakeLambdaRuntime runtime(daemon, {{"req-1", "Root=1-...;Parent=...;Sampled=1",
//                                                      R"({"order":42})"}});
//   run_the_function_against(runtime.address());     // AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>
//   ASSERT_TRUE(runtime.wait_for_results(1, std::chrono::seconds(5)));
//   const auto& result = runtime.results()[0];       // what it posted, and what the daemon had
//   then
//
// Endpoints (Lambda Developer Guide, "Using the Lambda runtime API for custom runtimes"):
// - GET /2018-06-01/runtime/invocation/next: the next invocation's payload, with the headers
//   Lambda-Runtime-Aws-Request-Id, Lambda-Runtime-Trace-Id (omitted when the invocation's
//   trace_header is empty), Lambda-Runtime-Deadline-Ms and Lambda-Runtime-Invoked-Function-Arn.
//   Once every invocation was handed out it answers 500 at once (the real API long-polls instead),
//   which makes aws-lambda-cpp's run_handler give up after three tries and return.
// - POST /2018-06-01/runtime/invocation/{id}/response and /{id}/error: 202; the body is recorded
//   together with FakeDaemon::documents_received_by_now() taken when the request arrived. An
//   unknown id answers 400.
// Connections carry one request each (Connection: close), served one at a time.
//
// Thread safety: thread-safe; requests are served on the server's own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/fake_daemon.hpp"
#include "support/fake_http_server.hpp"

namespace xray::testing {

struct LambdaInvocation {
  std::string request_id;
  std::string trace_header;  // Lambda-Runtime-Trace-Id; empty: no header
  std::string payload;
  std::string function_arn = "arn:aws:lambda:us-east-1:123456789012:function:xray-test";
  // Lambda-Runtime-Deadline-Ms is this long after the invocation is handed out.
  std::chrono::milliseconds time_limit{10000};
};

struct LambdaResult {
  std::string request_id;
  bool error = false;  // posted to /error rather than /response
  std::string body;
  // What the fake daemon had received when the post arrived; daemon_synced is false when it could
  // not be told (the marker did not come back within a second), and then the vector is empty.
  std::vector<nlohmann::json> daemon_documents;
  bool daemon_synced = false;
};

class FakeLambdaRuntime {
 public:
  static constexpr char kNextPath[] = "/2018-06-01/runtime/invocation/next";
  static constexpr char kInvocationPrefix[] = "/2018-06-01/runtime/invocation/";

  // `daemon` must outlive the runtime.
  FakeLambdaRuntime(FakeDaemon& daemon, std::vector<LambdaInvocation> invocations);
  FakeLambdaRuntime(const FakeLambdaRuntime&) = delete;
  FakeLambdaRuntime& operator=(const FakeLambdaRuntime&) = delete;

  // "127.0.0.1:<port>", the form of AWS_LAMBDA_RUNTIME_API.
  std::string address() const { return "127.0.0.1:" + std::to_string(server_.port()); }
  std::string base_url() const { return server_.base_url(); }

  std::vector<LambdaResult> results() const;
  bool wait_for_results(std::size_t count, std::chrono::milliseconds timeout) const;
  // GET /next requests answered so far, including the 500s after the last invocation.
  std::size_t next_requests() const;
  // Every request as received, in order.
  std::vector<RecordedRequest> requests() const { return server_.requests(); }

 private:
  HttpReply serve(const RecordedRequest& request);

  FakeDaemon& daemon_;
  mutable std::mutex mutex_;
  mutable std::condition_variable posted_;
  std::vector<LambdaInvocation> invocations_;  // guarded by mutex_
  std::size_t handed_out_ = 0;                 // guarded by mutex_
  std::size_t next_requests_ = 0;              // guarded by mutex_
  std::vector<LambdaResult> results_;          // guarded by mutex_
  FakeHttpServer server_;                      // last: its thread calls serve()
};

}  // namespace xray::testing
