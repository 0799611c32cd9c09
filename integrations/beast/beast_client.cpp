// Outgoing-request tracing for the Boost.Beast HTTP client (spec §9.2, §4.4).
#include <boost/system/system_error.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http_util.hpp"
#include "xray/beast.hpp"

namespace xray::beast {
namespace {

std::string_view view(boost::beast::string_view text) noexcept { return {text.data(), text.size()}; }

}  // namespace

ClientCall::ClientCall(http::request_header<>& request, const ClientOptions& options) {
  Recorder& recorder = options.recorder != nullptr ? *options.recorder : Recorder::global();
  std::string_view target = view(request.target());
  integrations::UrlParts target_parts = integrations::split_url(target);
  std::string_view authority = integrations::trim(view(request[http::field::host]));
  if (authority.empty()) authority = target_parts.authority;
  if (authority.empty()) authority = options.host;
  std::string name(integrations::host_without_port(authority));
  if (name.empty()) name = "UNKNOWN HOST";  // as the Python SDK names it

  Context parent = options.parent.empty() ? current_context() : options.parent;
  if (!parent.empty()) {
    // begin_subsegment makes the call current on this thread, but it may complete on another:
    // the marker's end takes it off this thread's stack again (see ContextScope).
    ContextScope marker(parent);
    subsegment_ = recorder.begin_subsegment(name, parent);
  } else {
    subsegment_ = recorder.begin_subsegment(name);  // context missing: inert, or throws if asked
  }
  try {
    subsegment_.set_namespace("remote");
    if (subsegment_.sampled()) {
      HttpRequestInfo info;
      info.method = std::string(view(request.method_string()));
      std::string_view scheme = target_parts.scheme.empty() ? options.scheme : target_parts.scheme;
      info.url = integrations::recorded_url(scheme, authority, target_parts.path, target_parts.query,
                                            options.record_query);
      info.traced = options.traced;
      subsegment_.set_http_request(std::move(info));
    }
    // Unsampled calls still carry the header, with Sampled=0, so the downstream does not sample.
    std::string header = subsegment_.outbound_header().to_string();
    if (!header.empty()) {
      // set() replaces every existing line: a stale header would break the parent link.
      request.set(boost::beast::string_view(TraceHeader::kHeaderName.data(),
                                            TraceHeader::kHeaderName.size()),
                  header);
    }
  } catch (...) {
    // Out of memory: the request goes out as it was.
  }
}

void ClientCall::record_response(const http::response_header<>& response,
                                 std::optional<std::uint64_t> content_length) noexcept {
  subsegment_.set_http_status(static_cast<int>(response.result_int()));
  auto declared = response.find(http::field::content_length);
  if (declared != response.end()) {
    std::string_view text = integrations::trim(view(declared->value()));
    std::uint64_t length = 0;
    bool valid = !text.empty() && text.size() <= 19;
    for (char c : text) {
      if (c < '0' || c > '9') valid = false;
      length = length * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (valid) {
      subsegment_.set_http_content_length(length);
      return;
    }
  }
  if (content_length) subsegment_.set_http_content_length(*content_length);
}

void ClientCall::record_error(const boost::system::error_code& error) noexcept {
  try {
    subsegment_.add_exception(boost::system::system_error(error));
  } catch (...) {
    subsegment_.set_fault();  // the message could not be built: at least the flag
  }
}

}  // namespace xray::beast
