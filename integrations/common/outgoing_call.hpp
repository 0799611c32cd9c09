// Internal to the integrations: what an outgoing HTTP call records (spec §9.2, §4.4), in one place
// for every client integration (libcurl, Beast; next the AWS-call and gRPC clients).
//
//   integrations::OutgoingRequest request{"GET", "https", "api.example.com:443", "/v1/items", ""};
//   SubsegmentScope call = integrations::begin_outgoing_call(recorder, request, parent);
//   set_header("X-Amzn-Trace-Id", integrations::outgoing_trace_header(call));  // replace any line
//   ... send, receive ...
//   integrations::record_response(call, status, content_length);   // or call.add_exception(e)
//
// Thread safety: as SubsegmentScope (one scope, one thread at a time).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/http_util.hpp"
#include "xray/recorder.hpp"
#include "xray/trace_context.hpp"

namespace xray::integrations {

struct OutgoingRequest {
  std::string_view method;
  std::string_view scheme;     // "http" or "https"
  std::string_view authority;  // host[:port], or "[v6]:port"
  std::string_view path;
  std::string_view query;
  bool record_query = false;   // keep the query string in http.request.url
  bool traced = false;         // the downstream service is known to be traced
};

// The call's subsegment: named after the host ("UNKNOWN HOST" without one, as the Python SDK),
// in the `remote` namespace, with http.request. It begins under `parent`, else under this thread's
// current entity (else the context-missing strategy applies), and it is never left current on
// this thread: a call may complete on another thread or handler.
inline SubsegmentScope begin_outgoing_call(Recorder& recorder, const OutgoingRequest& request,
                                           const Context& parent = {}) {
  std::string name(host_without_port(request.authority));
  if (name.empty()) name = "UNKNOWN HOST";
  const Context under = parent.empty() ? current_context() : parent;
  SubsegmentScope call = recorder.start_subsegment(name, under);
  try {
    call.set_namespace("remote");
    if (call.sampled()) {
      HttpRequestInfo info;
      info.method = std::string(request.method);
      info.url = recorded_url(request.scheme, request.authority, request.path, request.query,
                              request.record_query);
      info.traced = request.traced;
      call.set_http_request(std::move(info));
    }
  } catch (...) {
    // Out of memory: the call is traced without its request fields.
  }
  return call;
}

// The X-Amzn-Trace-Id value the request carries, replacing any line already set (a stale header
// would break the parent link). Unsampled calls carry it too, with Sampled=0, so that the
// downstream does not sample. Empty when nothing is traced.
inline std::string outgoing_trace_header(const SubsegmentScope& call) {
  return call.outbound_header().to_string();
}

// The W3C `traceparent` equivalent of that header, for a downstream service on OpenTelemetry;
// empty when the call's ids cannot be W3C's (no-op ids of an unsampled call, spec §3).
inline std::string outgoing_traceparent(const SubsegmentScope& call) {
  const std::optional<TraceParent> parent = to_trace_parent(call.outbound_header());
  return parent ? parent->to_string() : std::string();
}

// The response: http.response.status with its flags (4xx error, 429 throttle, 5xx fault) and the
// content length when known.
inline void record_response(SubsegmentScope& call, int status,
                            std::optional<std::uint64_t> content_length) noexcept {
  if (status > 0) call.set_http_status(status);
  if (content_length) call.set_http_content_length(*content_length);
}

}  // namespace xray::integrations
