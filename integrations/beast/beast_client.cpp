// Outgoing-request tracing for the Boost.Beast HTTP client (spec §9.2, §4.4).
#include <boost/system/system_error.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http_util.hpp"
#include "common/outgoing_call.hpp"
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

  integrations::OutgoingRequest outgoing;
  outgoing.method = view(request.method_string());
  outgoing.scheme = target_parts.scheme.empty() ? std::string_view(options.scheme) : target_parts.scheme;
  outgoing.authority = authority;
  outgoing.path = target_parts.path;
  outgoing.query = target_parts.query;
  outgoing.record_query = options.record_query;
  outgoing.traced = options.traced;
  subsegment_ = integrations::begin_outgoing_call(recorder, outgoing, options.parent);
  try {
    std::string header = integrations::outgoing_trace_header(subsegment_);
    if (!header.empty()) {
      // set() replaces every existing line.
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
  const int status = static_cast<int>(response.result_int());
  auto declared = response.find(http::field::content_length);
  if (declared != response.end()) {
    // The declared length wins over the bytes counted.
    if (auto length = integrations::parse_content_length(view(declared->value()))) content_length = length;
  }
  integrations::record_response(subsegment_, status, content_length);
}

void ClientCall::record_error(const boost::system::error_code& error) noexcept {
  try {
    subsegment_.add_exception(boost::system::system_error(error));
  } catch (...) {
    subsegment_.set_fault();  // the message could not be built: at least the flag
  }
}

}  // namespace xray::beast
