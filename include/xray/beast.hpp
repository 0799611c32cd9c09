// xray/beast.hpp: X-Ray tracing for Boost.Beast HTTP servers and clients (target AWSXRay::beast).
//
// Incoming requests, synchronous handler: wrap it once and every request gets a segment.
//
//   auto handler = xray::beast::traced(
//       [](const http::request<http::string_body>& request) {
//         http::response<http::string_body> response{http::status::ok, request.version()};
//         response.body() = "Hello World";
//         response.prepare_payload();
//         return response;
//       },
//       {/*name=*/"hello"});
//   auto response = handler(request, socket.remote_endpoint().address().to_string());
//
// Incoming requests, asynchronous session: a RequestTracer per request, kept alive until the
// response is written; continuations bound with `bind_context` run with the segment current.
//
//   tracer_ = xray::beast::RequestTracer(request_, peer_address, options);
//   xray::ContextScope attach(tracer_.context());        // current while this handler runs
//   ...
//   tracer_.record_response(response_);                  // status, length, X-Amzn-Trace-Id
//   http::async_write(stream_, response_,
//       xray::beast::bind_context(tracer_.context(), [this](auto ec, auto) { tracer_.end(); }));
//
// Outgoing requests with the Beast client:
//
//   xray::beast::ClientCall call(request);              // subsegment + X-Amzn-Trace-Id injected
//   http::write(stream, request, ec);
//   if (!ec) http::read(stream, buffer, response, ec);
//   if (ec) call.record_error(ec); else call.record_response(response);
//
// A request to an AWS API (an X-Amz-Target or SigV4 Authorization header, an amazonaws.com Host;
// or `options.aws`) becomes an `aws` subsegment instead (xray/aws.hpp): name the service, the
// operation, the region, the allow-listed parameters of `options.body`, and from the response its
// request id and, for an http::string_body response, the service error. The trace header is set
// by the constructor: sign the request after it (the AWS SDKs' signers skip it anyway).
//
// What is recorded follows the wire spec §9: the segment's name (fixed, or the Host header when it
// matches `host_pattern`, else `fallback_name`; AWS_XRAY_TRACING_NAME wins over all), http.request
// (method, url without query unless `record_query`, user_agent, client_ip from the first
// X-Forwarded-For entry or the peer address), http.response (status, content_length) and the
// error/throttle/fault flags; handler exceptions become the cause.
//
// Thread safety: RequestTracer and ClientCall are thread-compatible (distinct objects safe, shared
// objects unsafe); they may be created on one thread and ended on another. `traced` handlers may be
// called concurrently when the wrapped handler may.
#pragma once

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "xray/aws.hpp"
#include "xray/context.hpp"
#include "xray/export.hpp"
#include "xray/recorder.hpp"
#include "xray/segment_scope.hpp"
#include "xray/subsegment_scope.hpp"

namespace xray::beast {

namespace http = boost::beast::http;

// How incoming requests are traced. A plain value; copy it freely.
struct ServerOptions {
  // Fixed segment name. When empty, the name comes from the Host header (below).
  std::string name;
  // `*`/`?` pattern (ASCII case-insensitive) for recognised hosts: a Host header (without its port)
  // that matches names the segment. Empty: never matches.
  std::string host_pattern;
  // Name when neither `name` nor `host_pattern` applies; empty means the recorder's service name.
  std::string fallback_name;
  // Scheme of the recorded url when the request has no X-Forwarded-Proto.
  std::string scheme = "http";
  // Keep the query string in http.request.url (spec §9.1: removed by default).
  bool record_query = false;
  // Adopt the incoming X-Amzn-Trace-Id. Set false for untrusted clients: every request then starts
  // a new trace and the sampler decides.
  bool trust_incoming_header = true;
  // Add `X-Amzn-Trace-Id: Root=...;Sampled=...` to responses (spec §4.4).
  bool add_response_header = true;
  // Continue a W3C `traceparent` (from a client on OpenTelemetry) when the request has no
  // X-Amzn-Trace-Id; trusted clients only. A W3C trace id X-Ray cannot take starts a new trace
  // with the W3C ids in the segment's `w3c` metadata (xray/trace_context.hpp).
  bool accept_traceparent = false;
  // Null: xray::Recorder::global(). Must outlive every tracer made with these options.
  Recorder* recorder = nullptr;
};

// One incoming request's segment: begun from the request, finished with the response. The segment
// is not made current by the constructor (it may end on another thread); make it current where
// code runs with `xray::ContextScope attach(tracer.context())`.
//
// Thread safety: thread-compatible (distinct objects safe, shared objects unsafe).
class XRAY_EXPORT RequestTracer {
 public:
  RequestTracer() noexcept = default;  // inert
  // Parses X-Amzn-Trace-Id (first line), names the segment, runs the sampler and records
  // http.request. `peer_address` is the client's IP without brackets or port (e.g.
  // `endpoint.address().to_string()`); used when there is no X-Forwarded-For.
  RequestTracer(const http::request_header<>& request, std::string_view peer_address,
                const ServerOptions& options = {}) noexcept;
  RequestTracer(RequestTracer&&) noexcept = default;
  RequestTracer& operator=(RequestTracer&&) noexcept = default;
  ~RequestTracer() = default;  // ends the segment if `end` was not called

  // The segment, for annotations, metadata, user, ... (inert when tracing is off).
  SegmentScope& segment() noexcept { return segment_; }
  // The segment as a context, for other threads and async continuations.
  Context context() const noexcept { return segment_.context(); }

  // Records status and content length (Content-Length, else `content_length`), maps the status to
  // error/throttle/fault and sets the X-Amzn-Trace-Id response header. Call before writing.
  void record_response(http::response_header<>& response,
                       std::optional<std::uint64_t> content_length = std::nullopt) noexcept;
  template <class Body>
  void record_response(http::response<Body>& response) noexcept {
    std::optional<std::uint64_t> size;
    try {
      auto payload = response.payload_size();
      if (payload) size = *payload;
    } catch (...) {  // a body whose size() throws: length unknown
    }
    record_response(static_cast<http::response_header<>&>(response), size);
  }
  // Records an exception escaping the handler as the cause, with fault, and status 500 when no
  // response was recorded.
  void record_exception(const std::exception_ptr& error) noexcept;
  // Ends the segment (idempotent). A request whose connection closed before any response still
  // ends its segment, without http.response.
  void end() noexcept { segment_.end(); }

 private:
  SegmentScope segment_;
  bool responded_ = false;
  bool add_response_header_ = true;
};

// A synchronous handler `(const http::request<Body>&) -> http::response<B>` wrapped so every call
// is traced: the segment is current while `handler` runs, its response is recorded, and an
// exception it throws is recorded and re-thrown. Made by `traced`.
template <class Handler>
class TracedHandler {
 public:
  TracedHandler(Handler handler, ServerOptions options)
      : handler_(std::move(handler)), options_(std::move(options)) {}

  template <class Body>
  auto operator()(const http::request<Body>& request, std::string_view peer_address = {})
      -> decltype(std::declval<Handler&>()(request)) {
    RequestTracer tracer(request, peer_address, options_);
    ContextScope attach(tracer.context());
    try {
      auto response = handler_(request);
      tracer.record_response(response);
      return response;
    } catch (...) {
      tracer.record_exception(std::current_exception());
      throw;
    }
  }

 private:
  Handler handler_;
  ServerOptions options_;
};

template <class Handler>
TracedHandler<std::decay_t<Handler>> traced(Handler&& handler, ServerOptions options = {}) {
  return TracedHandler<std::decay_t<Handler>>(std::forward<Handler>(handler), std::move(options));
}

// An Asio completion handler that runs `handler` with `context` current. Keeps the wrapped
// handler's associated executor and allocator, so strands and custom allocators still apply.
template <class Handler>
class ContextBoundHandler {
 public:
  ContextBoundHandler(Context context, Handler handler)
      : context_(std::move(context)), handler_(std::move(handler)) {}

  template <class... Args>
  auto operator()(Args&&... args)
      -> decltype(std::declval<Handler&>()(std::forward<Args>(args)...)) {
    ContextScope attach(context_);
    return handler_(std::forward<Args>(args)...);
  }

  const Handler& handler() const noexcept { return handler_; }

 private:
  Context context_;
  Handler handler_;
};

template <class Handler>
ContextBoundHandler<std::decay_t<Handler>> bind_context(Context context, Handler&& handler) {
  return ContextBoundHandler<std::decay_t<Handler>>(std::move(context),
                                                    std::forward<Handler>(handler));
}

// How an outgoing Beast request is traced. A plain value.
struct ClientOptions {
  // Parent of the subsegment; empty: this thread's current entity.
  Context parent;
  // Scheme of the recorded url (the request carries only host and target).
  std::string scheme = "http";
  // Host when the request has no Host header.
  std::string host;
  // The downstream service is traced too (http.request.traced, spec §9.2).
  bool traced = false;
  // Keep the query string in http.request.url.
  bool record_query = false;
  // Also set W3C `traceparent` (replacing one already there; `tracestate` is left as it is), for
  // a downstream service on OpenTelemetry. Not set when the ids cannot be W3C's (no-op ids).
  bool inject_traceparent = false;
  // Null: xray::Recorder::global(). Must outlive the call.
  Recorder* recorder = nullptr;
  // The request body, read (during the constructor only) for an AWS call's parameters.
  std::string_view body;
  // Names the AWS call explicitly (service, operation, region); wins over recognition.
  std::optional<aws::CallIdentity> aws;
  // The parameters AWS calls record; null: aws::ParameterAllowList::defaults(). Must outlive the
  // call.
  const aws::ParameterAllowList* aws_parameters = nullptr;
};

// One outgoing request's "remote" (or, for an AWS API, "aws") subsegment, named after the target
// host. The constructor records http.request and sets X-Amzn-Trace-Id on the request (replacing one
// already there). The subsegment is not left current (the call may complete on another thread).
//
// Throws xray::ContextMissingError only when there is no parent and the recorder is configured with
// ContextMissing::kRuntimeError; otherwise never throws.
// Thread safety: thread-compatible (distinct objects safe, shared objects unsafe).
class XRAY_EXPORT ClientCall {
 public:
  ClientCall() noexcept = default;  // inert
  explicit ClientCall(http::request_header<>& request, const ClientOptions& options = {});
  ClientCall(ClientCall&&) noexcept = default;
  ClientCall& operator=(ClientCall&&) noexcept = default;
  ~ClientCall() = default;  // ends the subsegment if `end` was not called

  SubsegmentScope& subsegment() noexcept { return subsegment_; }
  Context context() const noexcept { return subsegment_.context(); }

  // Records status and content length (Content-Length, else `content_length`); 4xx/429/5xx flags.
  // `body`: the response body when the caller has it, read for an AWS call's error code and
  // response parameters.
  void record_response(const http::response_header<>& response,
                       std::optional<std::uint64_t> content_length = std::nullopt,
                       std::string_view body = {}) noexcept;
  template <class Body>
  void record_response(const http::response<Body>& response) noexcept {
    std::optional<std::uint64_t> size;
    try {
      auto payload = response.payload_size();
      if (payload) size = *payload;
    } catch (...) {
    }
    std::string_view body;
    if constexpr (std::is_same_v<Body, http::string_body>) body = response.body();
    record_response(static_cast<const http::response_header<>&>(response), size, body);
  }
  // No response (connect, write, read or timeout error): fault + cause (the error's message).
  void record_error(const boost::system::error_code& error) noexcept;
  void end() noexcept { subsegment_.end(); }

 private:
  SubsegmentScope subsegment_;
  std::optional<aws::CallIdentity> aws_;  // set for an AWS API call
  const aws::ParameterAllowList* aws_parameters_ = nullptr;
};

}  // namespace xray::beast

namespace boost::asio {

template <class Handler, class Executor>
struct associated_executor<xray::beast::ContextBoundHandler<Handler>, Executor> {
  using type = associated_executor_t<Handler, Executor>;
  static type get(const xray::beast::ContextBoundHandler<Handler>& h,
                  const Executor& ex = Executor()) noexcept {
    return associated_executor<Handler, Executor>::get(h.handler(), ex);
  }
};

template <class Handler, class Allocator>
struct associated_allocator<xray::beast::ContextBoundHandler<Handler>, Allocator> {
  using type = associated_allocator_t<Handler, Allocator>;
  static type get(const xray::beast::ContextBoundHandler<Handler>& h,
                  const Allocator& a = Allocator()) noexcept {
    return associated_allocator<Handler, Allocator>::get(h.handler(), a);
  }
};

}  // namespace boost::asio
