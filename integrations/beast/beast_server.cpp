// Incoming-request tracing for Boost.Beast servers (spec §9.1, §4.3, §4.4).
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

std::string_view field(const http::request_header<>& request, std::string_view name) noexcept {
  auto found = request.find(boost::beast::string_view(name.data(), name.size()));
  return found == request.end() ? std::string_view() : view(found->value());
}

// First entry of a comma-separated header value, trimmed.
std::string_view first_entry(std::string_view value) noexcept {
  return trim(value.substr(0, value.find(',')));
}

}  // namespace

RequestTracer::RequestTracer(const http::request_header<>& request, std::string_view peer_address,
                             const ServerOptions& options) noexcept
    : add_response_header_(options.add_response_header) {
  try {
    Recorder& recorder = options.recorder != nullptr ? *options.recorder : Recorder::global();
    std::string_view host_header = trim(view(request[http::field::host]));
    // Absolute-form targets (requests sent to a proxy) carry their own scheme and authority.
    integrations::UrlParts target_parts = integrations::split_url(view(request.target()));

    integrations::IncomingRequest incoming;
    incoming.method = view(request.method_string());
    incoming.scheme = first_entry(field(request, "X-Forwarded-Proto"));
    if (incoming.scheme.empty()) {
      incoming.scheme = target_parts.scheme.empty() ? std::string_view(options.scheme) : target_parts.scheme;
    }
    incoming.authority = target_parts.authority.empty() ? host_header : target_parts.authority;
    incoming.path = target_parts.path;
    incoming.query = target_parts.query;
    incoming.record_query = options.record_query;
    incoming.user_agent = view(request[http::field::user_agent]);
    incoming.forwarded_for = first_entry(field(request, "X-Forwarded-For"));
    incoming.peer_address = peer_address;
    incoming.accept_traceparent = options.accept_traceparent;
    // W3C Trace Context: a request with several traceparent lines has none.
    if (options.accept_traceparent && request.count("traceparent") == 1) {
      incoming.traceparent = field(request, "traceparent");
    }
    integrations::SegmentNaming naming{options.name, options.host_pattern, options.fallback_name};
    // Beast's find returns the first of several lines, which is the one the spec (§4.1) adopts.
    segment_ = integrations::begin_incoming_request(recorder, naming, options.trust_incoming_header,
                                                    field(request, "X-Amzn-Trace-Id"), incoming);
  } catch (...) {
    // Tracing never breaks the request: out of memory leaves the tracer with what it has.
  }
}

void RequestTracer::record_response(http::response_header<>& response,
                                    std::optional<std::uint64_t> content_length) noexcept {
  try {
    responded_ = true;
    auto declared = response.find(http::field::content_length);
    if (declared != response.end()) {
      // The declared length wins over the bytes counted.
      if (auto length = integrations::parse_content_length(view(declared->value()))) content_length = length;
    }
    integrations::record_incoming_response(segment_, static_cast<int>(response.result_int()),
                                           content_length);
    if (add_response_header_) {
      std::string value = integrations::response_trace_header(segment_);
      if (!value.empty()) {
        response.set(boost::beast::string_view(TraceHeader::kHeaderName.data(),
                                               TraceHeader::kHeaderName.size()),
                     value);
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
