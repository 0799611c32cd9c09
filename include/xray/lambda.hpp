// xray/lambda.hpp: C++ functions on AWS Lambda, traced per invocation under the facade segment
// that Lambda records (spec §11).
//
// In Lambda (LAMBDA_TASK_ROOT set, or Config::lambda = true) the function's segment is Lambda's:
// the SDK never sends one. Each invocation runs inside an Invocation built from the invocation's
// trace header (the custom runtime's Lambda-Runtime-Trace-Id; aws-lambda-cpp hands it to the
// handler as invocation_request::xray_trace_id):
//
//   invocation_response handler(const invocation_request& request) {
//     xray::lambda::InvocationOptions options;
//     options.request_id = request.request_id;
//     options.deadline = request.deadline;
//     xray::lambda::Invocation invocation(request.xray_trace_id, options);  // facade is current
//     auto work = xray::Recorder::global().begin_subsegment("handle-order");
//     ...                                    // outbound calls carry Root, Parent = the subsegment
//     return invocation_response::success(...);  // `invocation` ends first: everything is sent
//   }
//
// What it does:
// - The facade (trace_id = Root, id = Parent, sampled = Sampled, extras such as Lineage kept for
//   outbound headers) is the current context on this thread while the Invocation lives; pass
//   context() to other threads. Subsegments under it are sent each on its own as soon as it ends
//   (type "subsegment", parent_id = the facade's id).
// - A header with Sampled=0 records nothing; outbound headers say Sampled=0. A header without
//   Parent or Sampled passes through: nothing is recorded and outbound headers carry only the
//   Root and extras. An empty header falls back to _X_AMZN_TRACE_ID; none, or an invalid Root,
//   applies the context-missing strategy (nothing is traced).
// - The end of the Invocation (destructor or end()) restores this thread's previous context,
//   sends the invocation's subsegments still open as in_progress (each is sent complete, under its
//   own facade, when it ends, even during a later invocation), and flushes: it returns once
//   everything was handed to the socket, or after min(1 s, the time left before `deadline`).
//   Lambda freezes the environment as soon as the response is posted, so end it before that.
//
// Errors: never throws, except xray::ContextMissingError from the constructor when the header is
// missing or invalid and the recorder is configured with ContextMissing::kRuntimeError.
// Thread safety: an Invocation belongs to the thread that created it (it is that thread's current
// context); its context() may be used on any thread. Distinct invocations may run concurrently on
// distinct threads.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "xray/context.hpp"
#include "xray/export.hpp"
#include "xray/recorder.hpp"
#include "xray/trace_header.hpp"

namespace xray::lambda {

struct InvocationOptions {
  std::string request_id;    // Lambda-Runtime-Aws-Request-Id; for log lines
  std::string function_arn;  // Lambda-Runtime-Invoked-Function-Arn; for log lines
  // Lambda-Runtime-Deadline-Ms: the end-of-invocation flush never runs past it.
  std::optional<std::chrono::system_clock::time_point> deadline;
  // Null: xray::Recorder::global(). Must outlive the Invocation.
  Recorder* recorder = nullptr;
};

class XRAY_EXPORT Invocation {
 public:
  explicit Invocation(std::string_view trace_header, InvocationOptions options = {});
  ~Invocation();
  Invocation(const Invocation&) = delete;
  Invocation& operator=(const Invocation&) = delete;

  // The facade, for subsegments begun on other threads; empty when nothing is traced.
  Context context() const noexcept { return context_; }
  // Whether the invocation records (Sampled=1).
  bool sampled() const noexcept;
  // What a call made directly under the facade carries downstream.
  TraceHeader outbound_header() const noexcept;
  const InvocationOptions& options() const noexcept { return options_; }

  // Ends the invocation as described above. Idempotent. Returns false when the flush timed out.
  bool end() noexcept;

 private:
  InvocationOptions options_;
  Recorder* recorder_;
  Context context_;
  std::optional<ContextScope> attached_;
  bool ended_ = false;
};

}  // namespace xray::lambda
