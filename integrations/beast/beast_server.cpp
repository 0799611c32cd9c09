// Incoming-request tracing for Boost.Beast servers (spec §9.1, §4.3, §4.4).
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http_util.hpp"
#include "xray/beast.hpp"
#include "xray/wildcard.hpp"

namespace xray::beast {
namespace {

using integrations::host_without_port;
using integrations::trim;

std::string_view view(boost::beast::string_view text) noexcept { return {text.data(), text.size()}; }

std::string_view field(const http::request_header<>& request, std::string_view name) noexcept {
  auto found = request.find(boost::beast::string_view(name.data(), name.size()));
  return found == request.end() ? std::string_view() : view(found->value());
}

std::string segment_name(const ServerOptions& options, std::string_view host) {
  if (!options.name.empty()) return options.name;
  if (!options.host_pattern.empty() && !host.empty() &&
      wildcard_match(options.host_pattern, host)) {
    return std::string(host);
  }
  return options.fallback_name;  // empty: the recorder uses its service name
}

// First entry of a comma-separated header value, trimmed.
std::string_view first_entry(std::string_view value) noexcept {
  return trim(value.substr(0, value.find(',')));
}

bool parse_length(std::string_view text, std::uint64_t& out) noexcept {
  text = trim(text);
  if (text.empty() || text.size() > 19) return false;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = value;
  return true;
}

}  // namespace

RequestTracer::RequestTracer(const http::request_header<>& request, std::string_view peer_address,
                             const ServerOptions& options) noexcept
    : add_response_header_(options.add_response_header) {
  try {
    Recorder& recorder = options.recorder != nullptr ? *options.recorder : Recorder::global();
    TraceHeader upstream;
    // Beast's find returns the first of several lines, which is the one the spec (§4.1) adopts.
    if (options.trust_incoming_header) upstream = TraceHeader::parse(field(request, "X-Amzn-Trace-Id"));

    std::string_view host_header = trim(view(request[http::field::host]));
    std::string_view host = host_without_port(host_header);
    std::string_view method = view(request.method_string());
    std::string_view target = view(request.target());
    // Absolute-form targets (requests sent to a proxy) carry their own scheme and authority.
    integrations::UrlParts target_parts = integrations::split_url(target);

    SamplingRequest sampling;
    sampling.host = host;
    sampling.method = method;
    sampling.url_path = target_parts.path;
    // Not current on this thread: an asynchronous session may end the request on another one.
    segment_ = recorder.start_segment(segment_name(options, host), upstream, sampling);
    if (!segment_.sampled()) return;  // nothing would be recorded: skip building the strings

    HttpRequestInfo info;
    info.method = std::string(method);
    std::string_view scheme = first_entry(field(request, "X-Forwarded-Proto"));
    if (scheme.empty()) scheme = target_parts.scheme.empty() ? options.scheme : target_parts.scheme;
    std::string_view authority = target_parts.authority.empty() ? host_header : target_parts.authority;
    info.url = integrations::recorded_url(scheme, authority, target_parts.path, target_parts.query,
                                          options.record_query);
    info.user_agent = std::string(view(request[http::field::user_agent]));
    std::string_view forwarded = first_entry(field(request, "X-Forwarded-For"));
    if (!forwarded.empty()) {
      info.client_ip = std::string(forwarded);
      info.x_forwarded_for = true;
    } else {
      info.client_ip = std::string(peer_address);
    }
    segment_.set_http_request(std::move(info));
  } catch (...) {
    // Tracing never breaks the request: out of memory leaves the tracer with what it has.
  }
}

void RequestTracer::record_response(http::response_header<>& response,
                                    std::optional<std::uint64_t> content_length) noexcept {
  try {
    responded_ = true;
    segment_.set_http_status(static_cast<int>(response.result_int()));
    std::uint64_t length = 0;
    auto declared = response.find(http::field::content_length);
    if (declared != response.end() && parse_length(view(declared->value()), length)) {
      segment_.set_http_content_length(length);
    } else if (content_length) {
      segment_.set_http_content_length(*content_length);
    }
    if (add_response_header_) {
      std::string value = segment_.response_header().to_string();
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
