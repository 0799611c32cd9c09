// Outgoing-request tracing for the Boost.Beast HTTP client (spec §9.2, §4.4), AWS API calls
// included (spec §10).
#include <boost/system/system_error.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/aws_headers.hpp"
#include "common/http_util.hpp"
#include "common/outgoing_call.hpp"
#include "xray/beast.hpp"

namespace xray::beast {
namespace {

std::string_view view(boost::beast::string_view text) noexcept {
  return {text.data(), text.size()};
}

// The headers among `names` that `fields` has (the first line of each).
template <class Fields, class Names>
aws::Headers aws_headers(const Fields& fields, const Names& names) {
  aws::Headers headers;
  for (std::string_view name : names) {
    auto found = fields.find(boost::beast::string_view(name.data(), name.size()));
    if (found != fields.end()) headers.emplace_back(name, view(found->value()));
  }
  return headers;
}

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
  outgoing.scheme =
      target_parts.scheme.empty() ? std::string_view(options.scheme) : target_parts.scheme;
  outgoing.authority = authority;
  outgoing.path = target_parts.path;
  outgoing.query = target_parts.query;
  outgoing.record_query = options.record_query;
  outgoing.traced = options.traced;

  // An AWS API call becomes an `aws` subsegment (spec §10), anything else a `remote` one.
  aws::Headers request_headers;
  aws::HttpCall aws_request;
  try {
    request_headers = aws_headers(request, integrations::kAwsRequestHeaders);
    aws_request.method = outgoing.method;
    aws_request.host = authority;
    aws_request.path = outgoing.path;
    aws_request.query = outgoing.query;
    aws_request.headers = &request_headers;
    aws_request.body = options.body;
    if (!options.aws) {
      aws_ = aws::identify(aws_request);
    } else {
      aws_ = options.aws;
      // Named without its operation: take it from the request, when it tells.
      if (aws_->operation.empty()) {
        if (auto recognised = aws::identify(aws_request)) aws_->operation = recognised->operation;
      }
    }
  } catch (...) {
    aws_.reset();  // out of memory: traced as a plain HTTP call
  }
  if (aws_) {
    aws_parameters_ = options.aws_parameters != nullptr ? options.aws_parameters
                                                        : &aws::ParameterAllowList::defaults();
    subsegment_ = aws::begin_call(recorder, *aws_, options.parent);
    aws::record_request(subsegment_, *aws_, aws_request, *aws_parameters_);
  } else {
    subsegment_ = integrations::begin_outgoing_call(recorder, outgoing, options.parent);
  }
  try {
    std::string header = integrations::outgoing_trace_header(subsegment_);
    if (!header.empty()) {
      // set() replaces every existing line.
      request.set(boost::beast::string_view(TraceHeader::kHeaderName.data(),
                                            TraceHeader::kHeaderName.size()),
                  header);
    }
    if (options.inject_traceparent) {
      std::string traceparent = integrations::outgoing_traceparent(subsegment_);
      if (!traceparent.empty()) {
        request.set(boost::beast::string_view(TraceParent::kHeaderName.data(),
                                              TraceParent::kHeaderName.size()),
                    traceparent);
      }
    }
  } catch (...) {
    // Out of memory: the request goes out as it was.
  }
}

void ClientCall::record_response(const http::response_header<>& response,
                                 std::optional<std::uint64_t> content_length,
                                 std::string_view body) noexcept {
  const int status = static_cast<int>(response.result_int());
  auto declared = response.find(http::field::content_length);
  if (declared != response.end()) {
    // The declared length wins over the bytes counted.
    if (auto length = integrations::parse_content_length(view(declared->value())))
      content_length = length;
  }
  if (!aws_) {
    integrations::record_response(subsegment_, status, content_length);
    return;
  }
  if (!subsegment_.sampled()) return;
  try {
    aws::CallOutcome outcome;
    outcome.status = status;
    outcome.content_length = content_length;
    outcome.response_headers = aws_headers(response, integrations::kAwsResponseHeaders);
    outcome.response_body = body;
    aws::record_outcome(subsegment_, *aws_, outcome, *aws_parameters_);
  } catch (...) {
    subsegment_.set_http_status(status);  // out of memory: at least the status and its flags
  }
}

void ClientCall::record_error(const boost::system::error_code& error) noexcept {
  try {
    subsegment_.add_exception(boost::system::system_error(error));
  } catch (...) {
    subsegment_.set_fault();  // the message could not be built: at least the flag
  }
  if (aws_) aws::record_outcome(subsegment_, *aws_, aws::CallOutcome{}, *aws_parameters_);
}

}  // namespace xray::beast
