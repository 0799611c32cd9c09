// Outgoing-request tracing for libcurl (spec §9.2, §4.4), AWS API calls included (spec §10).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/aws_headers.hpp"
#include "common/http_util.hpp"
#include "common/outgoing_call.hpp"
#include "xray/curl.hpp"
#include "xray/trace_context.hpp"
#include "xray/subsegment_scope.hpp"

namespace xray::curl {
namespace {

// Owns the header list handed to libcurl for one transfer.
class HeaderList {
 public:
  HeaderList() = default;
  ~HeaderList() { curl_slist_free_all(list_); }
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;

  bool append(const char* line) noexcept {
    curl_slist* grown = curl_slist_append(list_, line);
    if (grown == nullptr) return false;
    list_ = grown;
    return true;
  }
  curl_slist* get() const noexcept { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

// Whether a libcurl header line sets (or removes) the header `name`.
bool is_header_line(const char* line, std::string_view name) noexcept {
  std::string_view text(line);
  if (text.size() < name.size() + 1) return false;
  if (!integrations::iequals(text.substr(0, name.size()), name)) return false;
  char next = text[name.size()];
  // "Name:" sets a header, "Name;" sends it empty (libcurl's syntax).
  return next == ':' || next == ';' || next == ' ';
}

// The caller's header lines an AWS call is recognised and recorded by, as name/value pairs.
aws::Headers aws_request_headers(const curl_slist* list) {
  aws::Headers headers;
  for (; list != nullptr; list = list->next) {
    if (list->data == nullptr) continue;
    std::string_view line(list->data);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    const std::string_view name = line.substr(0, colon);
    for (std::string_view wanted : integrations::kAwsRequestHeaders) {
      if (integrations::iequals(name, wanted)) {
        headers.emplace_back(name, integrations::trim(line.substr(colon + 1)));
        break;
      }
    }
  }
  return headers;
}

// The response headers an AWS call records (libcurl keeps the last response's headers).
aws::Headers aws_response_headers(CURL* easy) {
  aws::Headers headers;
  for (const char* name : {"x-amzn-RequestId", "x-amz-request-id", "x-amz-id-2", "x-amzn-ErrorType",
                           "X-Amz-Function-Error"}) {
    curl_header* header = nullptr;
    if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &header) == CURLHE_OK &&
        header != nullptr && header->value != nullptr) {
      headers.emplace_back(name, header->value);
    }
  }
  return headers;
}

std::size_t append_to_string(char* data, std::size_t size, std::size_t count,
                             void* target) noexcept {
  try {
    static_cast<std::string*>(target)->append(data, size * count);
    return size * count;
  } catch (...) {
    return 0;  // out of memory: libcurl ends the transfer with CURLE_WRITE_ERROR
  }
}

}  // namespace

CURLcode perform(CURL* easy, std::string_view url, const Options& options) {
  Recorder& recorder = options.recorder != nullptr ? *options.recorder : Recorder::global();
  const std::string url_text(url);
  // libcurl copies the string, so the handle does not borrow ours.
  CURLcode code = curl_easy_setopt(easy, CURLOPT_URL, url_text.c_str());
  if (code != CURLE_OK) return code;
  if (!options.aws_sigv4.empty()) {
    const std::string sigv4(options.aws_sigv4);
    code = curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, sigv4.c_str());
    if (code != CURLE_OK) return code;
  }
  if (options.body) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(options.body->size()));
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, options.body->data());
  }

  integrations::UrlParts parts = integrations::split_url(url_text);
  integrations::OutgoingRequest outgoing;
  outgoing.scheme = parts.scheme.empty() ? std::string_view("http") : parts.scheme;
  outgoing.authority = parts.authority;
  outgoing.path = parts.path;
  outgoing.query = parts.query;
  outgoing.record_query = options.record_query;
  outgoing.traced = options.traced;

  // An AWS API call becomes an `aws` subsegment (spec §10), anything else a `remote` one.
  aws::Headers request_headers;
  aws::HttpCall aws_request;
  std::optional<aws::CallIdentity> aws_call;
  try {
    request_headers = aws_request_headers(options.headers);
    aws_request.host = parts.authority;
    aws_request.path = parts.path;
    aws_request.query = parts.query;
    aws_request.headers = &request_headers;
    if (options.body) aws_request.body = *options.body;
    aws_request.sigv4 = options.aws_sigv4;
    aws_call = options.aws ? options.aws : aws::identify(aws_request);
  } catch (...) {
    // Out of memory: traced as a plain HTTP call.
  }
  // The method is known only after the transfer (CURLINFO_EFFECTIVE_METHOD): recorded below.
  SubsegmentScope call =
      aws_call ? aws::begin_call(recorder, *aws_call, options.parent)
               : integrations::begin_outgoing_call(recorder, outgoing, options.parent);
  // Synchronous: current on this thread for the transfer, so callbacks nest under the call.
  ContextScope attach(call.context());

  HeaderList headers;
  std::string trace_header;
  std::string traceparent;
  try {
    trace_header = integrations::outgoing_trace_header(call);
    if (options.inject_traceparent) traceparent = integrations::outgoing_traceparent(call);
  } catch (...) {
  }
  curl_slist* sent = options.headers;
  if (!trace_header.empty()) {
    bool built = true;
    for (curl_slist* item = options.headers; item != nullptr && built; item = item->next) {
      if (item->data == nullptr || is_header_line(item->data, TraceHeader::kHeaderName)) continue;
      if (!traceparent.empty() && is_header_line(item->data, TraceParent::kHeaderName)) continue;
      built = headers.append(item->data);
    }
    std::string line;
    std::string traceparent_line;
    try {
      line = std::string(TraceHeader::kHeaderName) + ": " + trace_header;
      if (!traceparent.empty()) {
        traceparent_line = std::string(TraceParent::kHeaderName) + ": " + traceparent;
      }
    } catch (...) {
      built = false;
    }
    built = built && headers.append(line.c_str()) &&
            (traceparent_line.empty() || headers.append(traceparent_line.c_str()));
    if (!built) {
      call.set_fault();
      return CURLE_OUT_OF_MEMORY;
    }
    sent = headers.get();
  }
  // The trace header is in the list before libcurl signs it (CURLOPT_AWS_SIGV4 signs every header
  // line) and the list does not change until the transfer is over.
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, sent);
  const std::size_t collected_before =
      options.response_body != nullptr ? options.response_body->size() : 0;
  if (options.response_body != nullptr) {
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &append_to_string);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, static_cast<void*>(options.response_body));
  }
  code = curl_easy_perform(easy);
  // Never leave the handle pointing at our list, which is freed on return, or at the caller's
  // string.
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, options.headers);
  if (options.response_body != nullptr) {
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, nullptr);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, static_cast<void*>(stdout));
  }

  if (!call.sampled()) return code;
  try {
    char* method = nullptr;
    const bool have_method =
        curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_METHOD, &method) == CURLE_OK &&
        method != nullptr;
    if (have_method && !aws_call) {
      HttpRequestInfo info;
      info.method = method;
      info.url = integrations::recorded_url(outgoing.scheme, outgoing.authority, outgoing.path,
                                            outgoing.query, outgoing.record_query);
      info.traced = outgoing.traced;
      call.set_http_request(std::move(info));
    }

    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK) {
      // No complete response (refused, timed out, reset): fault + the transfer error as cause.
      call.add_exception(TransferError(code, std::string("libcurl: ") + curl_easy_strerror(code)));
    }
    std::optional<std::uint64_t> content_length;
    if (status > 0) {
      curl_off_t length = -1;
      if (curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) != CURLE_OK ||
          length < 0) {
        curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &length);
      }
      if (length >= 0) content_length = static_cast<std::uint64_t>(length);
    }
    if (!aws_call) {
      if (status > 0) integrations::record_response(call, static_cast<int>(status), content_length);
      return code;
    }
    if (aws_call->operation.empty() && have_method) {
      // The S3 and Lambda REST routes need the method, known only now.
      aws_request.method = method;
      if (auto recognised = aws::identify(aws_request)) aws_call->operation = recognised->operation;
      if (!aws_call->operation.empty()) call.set_aws("operation", aws_call->operation);
    }
    aws::CallOutcome outcome;
    outcome.status = code == CURLE_OK ? static_cast<int>(status) : 0;
    outcome.content_length = content_length;
    outcome.response_headers = aws_response_headers(easy);
    if (options.response_body != nullptr) {
      outcome.response_body = std::string_view(*options.response_body).substr(collected_before);
    }
    aws::record_call(call, *aws_call, aws_request, outcome,
                     options.aws_parameters != nullptr ? *options.aws_parameters
                                                       : aws::ParameterAllowList::defaults());
  } catch (...) {
    // Out of memory while recording: the transfer's result is what matters.
  }
  return code;
}

}  // namespace xray::curl
