// Incoming-request tracing for Boost.Beast servers (spec §9.1, §4.3, §4.4).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http_util.hpp"
#include "common/incoming_request.hpp"
#include "xray/beast.hpp"

namespace xray::beast {
namespace {

using integrations::trim;

std::string_view view(boost::beast::string_view text) noexcept { return {text.data(), text.size()}; }

// `name` equals `lowercase` (a lowercase constant) ignoring ASCII case: only `name` is folded.
bool equals_lowercase(std::string_view name, std::string_view lowercase) noexcept {
  if (name.size() != lowercase.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const char folded = c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
    if (folded != lowercase[i]) return false;
  }
  return true;
}

// First entry of a comma-separated header value, trimmed.
std::string_view first_entry(std::string_view value) noexcept {
  return trim(value.substr(0, value.find(',')));
}

// The request headers tracing reads, from one walk over the fields instead of a lookup each. The
// walk is in arrival order, so a repeated header yields its first line: what Beast's find returns
// (equal names are kept in insertion order), which is the line the spec (§4.1) adopts.
struct TracedFields {
  std::string_view host;
  std::string_view user_agent;
  std::string_view forwarded_proto;
  std::string_view forwarded_for;
  std::string_view trace_header;
  std::string_view traceparent;
  int traceparent_lines = 0;

  explicit TracedFields(const http::request_header<>& request) noexcept {
    unsigned seen = 0;  // which of the single-line headers have been taken
    const auto first = [&seen](unsigned bit, std::string_view& slot, std::string_view value) {
      if ((seen & bit) != 0) return;
      seen |= bit;
      slot = value;
    };
    for (const auto& line : request) {
      switch (line.name()) {
        case http::field::host:
          first(1u, host, view(line.value()));
          break;
        case http::field::user_agent:
          first(2u, user_agent, view(line.value()));
          break;
        default: {  // by name: Beast has no constants for these (nor needs one to match)
          const std::string_view name = view(line.name_string());
          if (equals_lowercase(name, "x-amzn-trace-id")) {  // TraceHeader::kHeaderName
            first(4u, trace_header, view(line.value()));
          } else if (equals_lowercase(name, "x-forwarded-for")) {
            first(8u, forwarded_for, view(line.value()));
          } else if (equals_lowercase(name, "x-forwarded-proto")) {
            first(16u, forwarded_proto, view(line.value()));
          } else if (equals_lowercase(name, "traceparent")) {
            if (++traceparent_lines == 1) traceparent = view(line.value());
          }
          break;
        }
      }
    }
  }
};

}  // namespace

RequestTracer::RequestTracer(const http::request_header<>& request, std::string_view peer_address,
                             const ServerOptions& options) noexcept
    : add_response_header_(options.add_response_header) {
  try {
    Recorder& recorder = options.recorder != nullptr ? *options.recorder : Recorder::global();
    const TracedFields fields(request);
    std::string_view host_header = trim(fields.host);
    // Absolute-form targets (requests sent to a proxy) carry their own scheme and authority.
    integrations::UrlParts target_parts = integrations::split_url(view(request.target()));

    integrations::IncomingRequest incoming;
    incoming.method = view(request.method_string());
    incoming.scheme = first_entry(fields.forwarded_proto);
    if (incoming.scheme.empty()) {
      incoming.scheme = target_parts.scheme.empty() ? std::string_view(options.scheme) : target_parts.scheme;
    }
    incoming.authority = target_parts.authority.empty() ? host_header : target_parts.authority;
    incoming.path = target_parts.path;
    incoming.query = target_parts.query;
    incoming.record_query = options.record_query;
    incoming.user_agent = fields.user_agent;
    incoming.forwarded_for = first_entry(fields.forwarded_for);
    incoming.peer_address = peer_address;
    incoming.accept_traceparent = options.accept_traceparent;
    // W3C Trace Context: a request with several traceparent lines has none.
    if (options.accept_traceparent && fields.traceparent_lines == 1) {
      incoming.traceparent = fields.traceparent;
    }
    const integrations::SegmentNaming naming{options.name, options.host_pattern,
                                             options.fallback_name};
    segment_ = integrations::begin_incoming_request(recorder, naming, options.trust_incoming_header,
                                                    fields.trace_header, incoming);
  } catch (...) {
    // Tracing never breaks the request: out of memory leaves the tracer with what it has.
  }
}

void RequestTracer::record_response(http::response_header<>& response,
                                    std::optional<std::uint64_t> content_length) noexcept {
  try {
    responded_ = true;
    // The declared length wins over the bytes counted. Found by walking the few fields of a
    // response and comparing their constants: Beast's find compares names as strings, ignoring
    // case, down its tree. The first line, as find would return.
    for (const auto& line : response) {
      if (line.name() != http::field::content_length) continue;
      if (auto length = integrations::parse_content_length(view(line.value()))) {
        content_length = length;
      }
      break;
    }
    integrations::record_incoming_response(segment_, static_cast<int>(response.result_int()),
                                           content_length);
    if (add_response_header_) {
      // Formatted on the stack: Beast copies it into the field it allocates anyway.
      integrations::ResponseTraceHeader header;
      std::string_view value = header.format(segment_);
      if (!value.empty()) {
        response.set(boost::beast::string_view(TraceHeader::kHeaderName.data(),
                                               TraceHeader::kHeaderName.size()),
                     boost::beast::string_view(value.data(), value.size()));
      }
    }
  } catch (...) {
    // Out of memory while setting the header: the response goes out without it.
  }
}

void RequestTracer::record_exception(const std::exception_ptr& error) noexcept {
  segment_.add_exception(error);
  if (!responded_) segment_.set_http_status(500);
}

}  // namespace xray::beast
