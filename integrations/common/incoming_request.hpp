// Internal to the integrations: what an incoming request records (spec §9.1, §4.3, §4.4), in one
// place for every server integration (Beast today; gRPC and Lambda next).
//
//   IncomingRequest in{method, scheme, host_header, path, query, user_agent, forwarded_for, peer};
//   SegmentScope segment = begin_incoming_request(recorder, naming, trusted, header_value, in);
//   ... handle ...
//   record_incoming_response(segment, status, content_length);
//   std::string value = response_trace_header(segment);  // when the response carries it
//
// Thread safety: as SegmentScope (one scope, one thread at a time).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/http_util.hpp"
#include "xray/recorder.hpp"
#include "xray/trace_context.hpp"
#include "xray/wildcard.hpp"

namespace xray::integrations {

// How a server names its segments (AWS_XRAY_TRACING_NAME, applied by the recorder, wins over all).
// Views of the server's options, which outlive the request: made per request, so nothing is copied.
struct SegmentNaming {
  std::string_view name;           // fixed name; when empty, the host may name it
  std::string_view host_pattern;   // a Host (without port) matching this `*`/`?` pattern names it
  std::string_view fallback_name;  // otherwise; empty: the recorder's service name
};

// A view of `naming` or of `host`: the recorder copies the name into the segment.
inline std::string_view segment_name(const SegmentNaming& naming, std::string_view host) {
  if (!naming.name.empty()) return naming.name;
  if (!naming.host_pattern.empty() && !host.empty() && wildcard_match(naming.host_pattern, host)) {
    return host;
  }
  return naming.fallback_name;
}

struct IncomingRequest {
  std::string_view method;
  std::string_view scheme;         // from X-Forwarded-Proto, the target, or the server's own
  std::string_view authority;      // the Host header (or the absolute target's authority)
  std::string_view path;
  std::string_view query;
  bool record_query = false;
  std::string_view user_agent;
  std::string_view forwarded_for;  // first X-Forwarded-For entry, trimmed; empty when absent
  std::string_view peer_address;
  // W3C `traceparent` (one line; empty when absent or repeated), adopted only when
  // `accept_traceparent` is set and the request has no X-Amzn-Trace-Id.
  std::string_view traceparent;
  bool accept_traceparent = false;
};

// What a trusted client says about the trace: its X-Amzn-Trace-Id, else (when accepted) its
// W3C traceparent, converted (xray/trace_context.hpp).
struct Upstream {
  TraceHeader header;
  std::optional<TraceParent> w3c;  // the traceparent adopted, if that is where `header` came from
};

inline Upstream read_upstream(bool trust_incoming_header, std::string_view incoming_trace_header,
                              const IncomingRequest& request) {
  Upstream upstream;
  if (!trust_incoming_header) return upstream;
  upstream.header = TraceHeader::parse(incoming_trace_header);
  if (request.accept_traceparent && trim(incoming_trace_header).empty() &&
      !request.traceparent.empty()) {
    upstream.w3c = TraceParent::parse(request.traceparent);
    if (upstream.w3c) upstream.header = to_trace_header(*upstream.w3c);
  }
  return upstream;
}

// A traceparent whose trace id X-Ray cannot take (spec §3) began a new X-Ray trace: the W3C ids
// go into the segment's `w3c` metadata, so that the two traces can be found from each other.
inline void record_unconverted_traceparent(SegmentScope& segment, const Upstream& upstream) {
  if (!upstream.w3c || !upstream.header.root().empty() || !segment.sampled()) return;
  segment.put_metadata("trace_id", upstream.w3c->trace_id, "w3c");
  segment.put_metadata("parent_id", upstream.w3c->parent_id, "w3c");
}

// The incoming request's segment: the trace header adopted only from a trusted client (spec §4.3;
// the first of several lines), the sampling request from host, method and path, and http.request.
// The segment is not made current on this thread: a server may finish the request on another.
inline SegmentScope begin_incoming_request(Recorder& recorder, const SegmentNaming& naming,
                                           bool trust_incoming_header,
                                           std::string_view incoming_trace_header,
                                           const IncomingRequest& request) {
  const Upstream upstream = read_upstream(trust_incoming_header, incoming_trace_header, request);
  const std::string_view host = host_without_port(request.authority);
  SamplingRequest sampling;
  sampling.host = host;
  sampling.method = request.method;
  sampling.url_path = request.path;
  SegmentScope segment =
      recorder.start_segment(segment_name(naming, host), upstream.header, sampling);
  if (!segment.sampled()) return segment;  // nothing would be recorded: skip building strings
  record_unconverted_traceparent(segment, upstream);
  HttpRequestInfo info;
  info.method = std::string(request.method);
  info.url = recorded_url(request.scheme, request.authority, request.path, request.query,
                          request.record_query);
  info.user_agent = std::string(request.user_agent);
  if (!request.forwarded_for.empty()) {
    info.client_ip = std::string(request.forwarded_for);
    info.x_forwarded_for = true;
  } else {
    info.client_ip = std::string(request.peer_address);
  }
  segment.set_http_request(std::move(info));
  return segment;
}

// http.response.status with its flags (4xx error, 429 throttle, 5xx fault) and content length.
inline void record_incoming_response(SegmentScope& segment, int status,
                                     std::optional<std::uint64_t> content_length) noexcept {
  if (status > 0) segment.set_http_status(status);
  if (content_length) segment.set_http_content_length(*content_length);
}

// The X-Amzn-Trace-Id value of the response (spec §4.4); empty when there is nothing to say.
inline std::string response_trace_header(const SegmentScope& segment) {
  return segment.response_header().to_string();
}

// The same value written into a buffer of its own instead of a new string, for servers that copy
// it into their response anyway: `Root=<root>;Sampled=<0|1>` is what TraceHeader::to_string makes
// of a segment's response header. A segment's Root is a trace id (the recorder adopts an upstream
// Root only when TraceHeader::is_valid_root holds, and makes its own otherwise), so checking its
// shape's fixed points is enough here; anything else (an inert segment) takes the general path.
// The view returned lives as long as this object.
class ResponseTraceHeader {
 public:
  std::string_view format(const SegmentScope& segment) {
    const TraceHeader header = segment.response_header();
    const std::string& root = header.root();
    if (root.size() != kRootSize || root[0] != '1' || root[1] != '-' || root[10] != '-' ||
        (header.sampled() != TraceHeader::Sampled::kYes &&
         header.sampled() != TraceHeader::Sampled::kNo)) {
      fallback_ = header.to_string();
      return fallback_;
    }
    std::size_t size = 0;
    const auto append = [this, &size](std::string_view text) {
      text.copy(buffer_ + size, text.size());
      size += text.size();
    };
    append("Root=");
    append(root);
    append(header.sampled() == TraceHeader::Sampled::kYes ? ";Sampled=1" : ";Sampled=0");
    return {buffer_, size};
  }

 private:
  static constexpr std::size_t kRootSize = 35;  // 1-<8 hex>-<24 hex>
  char buffer_[sizeof("Root=") - 1 + kRootSize + sizeof(";Sampled=1") - 1];
  std::string fallback_;
};

}  // namespace xray::integrations
