// xray/grpc.hpp: X-Ray tracing for gRPC C++ servers and channels (target AWSXRay::grpc).
//
// Two lines: one on the server builder, one where the channel is made.
//
//   grpc::ServerBuilder builder;
//   builder.experimental().SetInterceptorCreators(xray::grpc::server_interceptors("orders"));
//
//   auto channel = grpc::experimental::CreateCustomChannelWithInterceptors(
//       target, grpc::InsecureChannelCredentials(), grpc::ChannelArguments(),
//       xray::grpc::client_interceptors(target));
//
// Server: every incoming RPC becomes a segment, named as the HTTP middleware names it (`name`, else
// `:authority` when it matches `host_pattern`, else `fallback_name`; AWS_XRAY_TRACING_NAME wins),
// with the `x-amzn-trace-id` metadata entry adopted as an X-Amzn-Trace-Id header (spec §4.3), and
// `http.request` {method: "POST", url: "grpc://<authority>/<package.Service>/<Method>",
// user_agent, client_ip}. The final status becomes `http.response.status` through the standard
// gRPC→HTTP mapping (`http_status` below), so the spec's §9 flags apply: 4xx error, 429 throttle,
// 5xx fault. Its name and message go into `metadata.grpc` and, when not OK, into the cause. The
// response's initial metadata carries `x-amzn-trace-id: Root=...;Sampled=...`. The segment ends
// when the status is sent (or when the call is cancelled before that).
//
// Client: every outgoing RPC (unary or streaming: one per call) becomes a `remote` subsegment named
// after the target's host, begun under the context that is current on the thread that starts the
// call, with `x-amzn-trace-id` (Root, Parent = the subsegment, Sampled, Lineage and other extras)
// set in the request metadata, replacing an entry already there. The received status is recorded
// as above (DEADLINE_EXCEEDED → 504, fault).
//
// Thread model:
//  - Synchronous server API: the segment is current on the thread that runs the handler, so
//    `begin_subsegment` and traced clients nest under it without further code.
//  - Callback API (and the completion-queue API): handlers run on gRPC's threads, where nothing is
//    made current. Reach the segment with `xray::grpc::server_context(*context)` and attach it
//    where work happens: `xray::ContextScope attach(xray::grpc::server_context(*context));`. With
//    the completion-queue API set `ServerOptions::attach_to_handler_thread = false` (the thread
//    that receives the call is not the one that finishes it).
//  - Client: the parent is taken on the thread that creates the call (sync or callback stub).
//
// Tracing never breaks an RPC: the interceptors catch everything, a malformed x-amzn-trace-id is
// logged (through gpr_log, at most once a minute) and ignored (a new trace begins).
//
// Thread safety: the factories and interceptors are thread-safe (gRPC may create and run them on
// any thread, concurrently); `server_context` may be called from any thread.
#pragma once

#include <grpcpp/support/client_interceptor.h>
#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "xray/context.hpp"
#include "xray/export.hpp"
#include "xray/recorder.hpp"

namespace grpc {
class ServerContextBase;
}  // namespace grpc

namespace xray::grpc {

// How incoming RPCs are traced. A plain value; copy it freely.
struct ServerOptions {
  // Fixed segment name. When empty, the name comes from the `:authority` (below).
  std::string name;
  // `*`/`?` pattern (ASCII case-insensitive): an `:authority` (without its port) that matches names
  // the segment. Empty: never matches.
  std::string host_pattern;
  // Name when neither `name` nor `host_pattern` applies; empty means the recorder's service name.
  std::string fallback_name;
  // Adopt the incoming x-amzn-trace-id. Set false for untrusted clients: every RPC then starts a
  // new trace and the sampler decides.
  bool trust_incoming_header = true;
  // Add `x-amzn-trace-id: Root=...;Sampled=...` to the response's initial metadata (spec §4.4).
  bool add_response_header = true;
  // Continue a W3C `traceparent` entry (from a client on OpenTelemetry) when the call has no
  // x-amzn-trace-id; trusted clients only. A W3C trace id X-Ray cannot take starts a new trace
  // with the W3C ids in the segment's `w3c` metadata (xray/trace_context.hpp).
  bool accept_traceparent = false;
  // Make the segment current on the thread that receives the call, until the status is sent on
  // that thread: right for the synchronous API, whose handler runs there. Callback servers are
  // recognised and never attached; completion-queue servers must set this to false.
  bool attach_to_handler_thread = true;
  // Null: xray::Recorder::global(). Must outlive the server.
  Recorder* recorder = nullptr;
};

// How outgoing RPCs are traced. A plain value.
struct ClientOptions {
  // The downstream service is traced too (http.request.traced, spec §9.2).
  bool traced = false;
  // Also send a W3C `traceparent` entry (replacing one already there; `tracestate` is left as it
  // is), for a downstream service on OpenTelemetry. Not sent when the ids cannot be W3C's.
  bool inject_traceparent = false;
  // Null: xray::Recorder::global(). Must outlive the channel.
  Recorder* recorder = nullptr;
};

// A factory to append to the server's interceptor creators.
XRAY_EXPORT std::unique_ptr<::grpc::experimental::ServerInterceptorFactoryInterface>
server_interceptor_factory(ServerOptions options = {});
// The creators vector for `ServerBuilder::experimental().SetInterceptorCreators`, holding only
// ours.
XRAY_EXPORT std::vector<std::unique_ptr<::grpc::experimental::ServerInterceptorFactoryInterface>>
server_interceptors(ServerOptions options = {});
// As above, every segment named `name` (the other options at their defaults).
XRAY_EXPORT std::vector<std::unique_ptr<::grpc::experimental::ServerInterceptorFactoryInterface>>
server_interceptors(std::string_view name);

// A factory for a channel to `target`, the string given to CreateChannel (`host:port`,
// `dns:///host:port`, `ipv4:127.0.0.1:50051`, `unix:/path`, ...): it names the subsegments and
// the url's authority.
XRAY_EXPORT std::unique_ptr<::grpc::experimental::ClientInterceptorFactoryInterface>
client_interceptor_factory(std::string_view target, ClientOptions options = {});
// The creators vector for `CreateCustomChannelWithInterceptors`, holding only ours.
XRAY_EXPORT std::vector<std::unique_ptr<::grpc::experimental::ClientInterceptorFactoryInterface>>
client_interceptors(std::string_view target, ClientOptions options = {});

// The segment of the RPC `context` belongs to, from the moment the call's metadata arrived until
// its status is sent; an empty Context otherwise (untraced server, finished call).
XRAY_EXPORT Context server_context(const ::grpc::ServerContextBase& context) noexcept;

// The HTTP status recorded for a gRPC status: OK 200; INVALID_ARGUMENT, FAILED_PRECONDITION,
// OUT_OF_RANGE 400; UNAUTHENTICATED 401; PERMISSION_DENIED 403; NOT_FOUND 404; ALREADY_EXISTS,
// ABORTED 409; RESOURCE_EXHAUSTED 429; CANCELLED 499; UNKNOWN, INTERNAL, DATA_LOSS (and any
// unknown code) 500; UNIMPLEMENTED 501; UNAVAILABLE 503; DEADLINE_EXCEEDED 504.
XRAY_EXPORT int http_status(::grpc::StatusCode code) noexcept;
// "OK", "CANCELLED", ..., "UNAUTHENTICATED"; "UNKNOWN" for a value outside the enumeration.
XRAY_EXPORT std::string_view status_code_name(::grpc::StatusCode code) noexcept;

}  // namespace xray::grpc
