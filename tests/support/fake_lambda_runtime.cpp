#include "support/fake_lambda_runtime.hpp"

#include <string_view>
#include <utility>

namespace xray::testing {

FakeLambdaRuntime::FakeLambdaRuntime(FakeDaemon& daemon, std::vector<LambdaInvocation> invocations)
    : daemon_(daemon),
      invocations_(std::move(invocations)),
      server_([this](const RecordedRequest& request) { return serve(request); }) {}

std::vector<LambdaResult> FakeLambdaRuntime::results() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return results_;
}

bool FakeLambdaRuntime::wait_for_results(std::size_t count,
                                         std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return posted_.wait_for(lock, timeout, [&] { return results_.size() >= count; });
}

std::size_t FakeLambdaRuntime::next_requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_requests_;
}

HttpReply FakeLambdaRuntime::serve(const RecordedRequest& request) {
  const std::string_view target = request.target;
  if (request.method == "GET" && target == kNextPath) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++next_requests_;
    if (handed_out_ == invocations_.size()) {
      return HttpReply(500, {{"Content-Type", "application/json"}},
                       R"({"errorMessage":"no more invocations in this test","errorType":"Test"})");
    }
    const LambdaInvocation& invocation = invocations_[handed_out_++];
    const auto deadline = std::chrono::duration_cast<std::chrono::milliseconds>(
        (std::chrono::system_clock::now() + invocation.time_limit).time_since_epoch());
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Content-Type", "application/json"},
        {"Lambda-Runtime-Aws-Request-Id", invocation.request_id},
        {"Lambda-Runtime-Deadline-Ms", std::to_string(deadline.count())},
        {"Lambda-Runtime-Invoked-Function-Arn", invocation.function_arn}};
    if (!invocation.trace_header.empty()) {
      headers.emplace_back("Lambda-Runtime-Trace-Id", invocation.trace_header);
    }
    return HttpReply(200, std::move(headers), invocation.payload);
  }

  // POST .../invocation/{id}/response or .../invocation/{id}/error
  const std::string_view prefix = kInvocationPrefix;
  if (request.method != "POST" || target.substr(0, prefix.size()) != prefix) return HttpReply(404);
  const std::string_view rest = target.substr(prefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return HttpReply(404);
  const std::string_view kind = rest.substr(slash + 1);
  if (kind != "response" && kind != "error") return HttpReply(404);

  LambdaResult result;
  result.request_id = std::string(rest.substr(0, slash));
  result.error = kind == "error";
  result.body = request.body;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    bool known = false;
    for (std::size_t i = 0; i < handed_out_; ++i) {
      known = known || invocations_[i].request_id == result.request_id;
    }
    if (!known) return HttpReply(400);
  }
  // Outside the lock: this waits (briefly) for the daemon's reader thread.
  auto documents = daemon_.documents_received_by_now(std::chrono::seconds(1));
  result.daemon_synced = documents.has_value();
  if (documents) result.daemon_documents = std::move(*documents);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    results_.push_back(std::move(result));
  }
  posted_.notify_all();
  return HttpReply(202, {{"Content-Type", "application/json"}}, R"({"status":"OK"})");
}

}  // namespace xray::testing
