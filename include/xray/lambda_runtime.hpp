// xray/lambda_runtime.hpp: aws-lambda-cpp handlers traced per invocation (header-only glue over
// xray/lambda.hpp). Usable where aws-lambda-cpp is installed: it includes
// <aws/lambda-runtime/runtime.h>; link AWSXRay::xray and AWS::aws-lambda-runtime.
//
//   using namespace aws::lambda_runtime;
//   invocation_response handle(const invocation_request& request) {
//     auto work = xray::Recorder::global().begin_subsegment("process-order");
//     ...                                   // xray::curl::perform(...) etc. nest under `work`
//     return invocation_response::success(R"({"status":"accepted"})", "application/json");
//   }
//   int main() { run_handler(xray::lambda::traced(handle)); }
//
// Each invocation runs inside an xray::lambda::Invocation built from the request's xray_trace_id
// (Lambda-Runtime-Trace-Id), request_id, function_arn and deadline, under one "function"
// subsegment named TracedOptions::name, else $AWS_LAMBDA_FUNCTION_NAME, else "handler"; that
// subsegment is current while the handler runs. A failure response (!is_success()) marks it
// fault, with the response's errorType and errorMessage as the cause. The wrapper returns the
// handler's response once the Invocation has ended, i.e. once everything was sent (or the flush
// gave up at min(1 s, the deadline)): aws-lambda-cpp posts it next, and Lambda may then freeze the
// environment. Sampled=0, no header, and the other cases behave as xray/lambda.hpp says.
//
// Exceptions: aws-lambda-cpp itself is built with -fno-exceptions, and this header compiles with or
// without them. With exceptions, anything the handler throws is recorded on the function
// subsegment (fault + cause) and becomes invocation_response::failure(what(), its type), so
// nothing is thrown into run_handler; xray::ContextMissingError (recorder configured with
// ContextMissing::kRuntimeError, invocation without a trace header) becomes a failure response
// too. Without exceptions, a handler must not throw, and kRuntimeError must not be used (the
// error would end the process).
//
// Thread safety: traced() may be called from any thread; the handler it returns runs the way
// run_handler calls it (one invocation at a time); several threads may each run their own.
#pragma once

#include <aws/lambda-runtime/runtime.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "xray/errors.hpp"
#include "xray/lambda.hpp"
#include "xray/recorder.hpp"
#include "xray/subsegment_scope.hpp"

#if defined(__cpp_exceptions) && defined(__cpp_rtti) && defined(__GNUC__)
#include <cxxabi.h>

#include <typeinfo>
#endif

namespace xray::lambda {

// aws-lambda-cpp's types are spelled ::aws::... here: xray::aws (xray/aws.hpp) would hide them.
using RuntimeHandler = std::function<::aws::lambda_runtime::invocation_response(
    const ::aws::lambda_runtime::invocation_request&)>;

struct TracedOptions {
  // Name of the subsegment around each call of the handler; empty: $AWS_LAMBDA_FUNCTION_NAME as
  // traced() finds it, else "handler".
  std::string name;
  // Null: xray::Recorder::global(). Must outlive the returned handler.
  Recorder* recorder = nullptr;
};

namespace detail {

inline std::string function_subsegment_name(const TracedOptions& options) {
  if (!options.name.empty()) return options.name;
  const char* function = std::getenv("AWS_LAMBDA_FUNCTION_NAME");
  return function != nullptr && *function != '\0' ? function : "handler";
}

// A failure response's body is {"errorMessage": ..., "errorType": ..., "stackTrace": [...]}
// (invocation_response::failure); anything else just sets fault.
inline void record_failure(SubsegmentScope& function,
                           const ::aws::lambda_runtime::invocation_response& response) {
  const nlohmann::json body = nlohmann::json::parse(response.get_payload(), nullptr, false);
  if (body.is_object() && body.contains("errorType") && body["errorType"].is_string()) {
    const auto message = body.find("errorMessage");
    function.add_exception(body["errorType"].get_ref<const std::string&>(),
                           message != body.end() && message->is_string()
                               ? message->get_ref<const std::string&>()
                               : std::string());
  }
  function.set_fault();  // add_exception already did for a local error; set it in every case
}

#if defined(__cpp_exceptions)
inline std::string exception_type(const std::exception& e) {
#if defined(__cpp_rtti) && defined(__GNUC__)
  int status = 0;
  char* demangled = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
  std::string name = status == 0 && demangled != nullptr ? demangled : typeid(e).name();
  std::free(demangled);
  return name;
#else
  static_cast<void>(e);
  return "std::exception";
#endif
}
#endif

// The handler, under `function` (which may be inert), its exceptions turned into failures.
inline ::aws::lambda_runtime::invocation_response call_handler(
    const RuntimeHandler& handler, const ::aws::lambda_runtime::invocation_request& request,
    SubsegmentScope& function) {
  using ::aws::lambda_runtime::invocation_response;
#if defined(__cpp_exceptions)
  try {
    invocation_response response = handler(request);
    if (!response.is_success()) record_failure(function, response);
    return response;
  } catch (const std::exception& e) {
    function.add_exception(e);
    return invocation_response::failure(e.what(), exception_type(e));
  } catch (...) {
    function.add_exception(std::current_exception());
    return invocation_response::failure("unknown exception", "unknown");
  }
#else
  invocation_response response = handler(request);
  if (!response.is_success()) record_failure(function, response);
  return response;
#endif
}

inline ::aws::lambda_runtime::invocation_response run_traced(
    const RuntimeHandler& handler, const std::string& name, Recorder* recorder,
    const ::aws::lambda_runtime::invocation_request& request) {
  InvocationOptions options;
  options.request_id = request.request_id;
  options.function_arn = request.function_arn;
  if (request.deadline != std::chrono::system_clock::time_point()) {
    options.deadline = request.deadline;  // the epoch: no Lambda-Runtime-Deadline-Ms header
  }
  options.recorder = recorder;
  Recorder& target = recorder != nullptr ? *recorder : Recorder::global();

  std::optional<Invocation> invocation;
#if defined(__cpp_exceptions)
  try {
    invocation.emplace(request.xray_trace_id, std::move(options));
  } catch (const ContextMissingError& e) {
    return ::aws::lambda_runtime::invocation_response::failure(e.what(),
                                                               "xray::ContextMissingError");
  }
#else
  invocation.emplace(request.xray_trace_id, std::move(options));
#endif
  // No facade (no or an invalid header): the Invocation already reported it; run untraced.
  SubsegmentScope function;
  if (!invocation->context().empty()) {
    function = target.begin_subsegment(name, invocation->context());
  }
  ::aws::lambda_runtime::invocation_response response = call_handler(handler, request, function);
  function.end();
  invocation->end();  // everything sent before aws-lambda-cpp posts the response
  return response;
}

}  // namespace detail

// `handler`, each invocation traced as described at the top of this file.
inline RuntimeHandler traced(RuntimeHandler handler, TracedOptions options = {}) {
  return [handler = std::move(handler), name = detail::function_subsegment_name(options),
          recorder = options.recorder](const ::aws::lambda_runtime::invocation_request& request) {
    return detail::run_traced(handler, name, recorder, request);
  };
}

}  // namespace xray::lambda
