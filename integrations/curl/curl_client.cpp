// Outgoing-request tracing for libcurl (spec §9.2, §4.4).
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http_util.hpp"
#include "common/outgoing_call.hpp"
#include "xray/curl.hpp"
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

bool is_trace_header_line(const char* line) noexcept {
  constexpr std::string_view kName = TraceHeader::kHeaderName;
  std::string_view text(line);
  if (text.size() < kName.size() + 1) return false;
  if (!integrations::iequals(text.substr(0, kName.size()), kName)) return false;
  char next = text[kName.size()];
  // "Name:" sets a header, "Name;" sends it empty (libcurl's syntax).
  return next == ':' || next == ';' || next == ' ';
}

}  // namespace

CURLcode perform(CURL* easy, std::string_view url, const Options& options) {
  Recorder& recorder = options.recorder != nullptr ? *options.recorder : Recorder::global();
  const std::string url_text(url);
  // libcurl copies the string, so the handle does not borrow ours.
  CURLcode code = curl_easy_setopt(easy, CURLOPT_URL, url_text.c_str());
  if (code != CURLE_OK) return code;

  integrations::UrlParts parts = integrations::split_url(url_text);
  integrations::OutgoingRequest outgoing;
  outgoing.scheme = parts.scheme.empty() ? std::string_view("http") : parts.scheme;
  outgoing.authority = parts.authority;
  outgoing.path = parts.path;
  outgoing.query = parts.query;
  outgoing.record_query = options.record_query;
  outgoing.traced = options.traced;
  // The method is known only after the transfer (CURLINFO_EFFECTIVE_METHOD): recorded below.
  SubsegmentScope call = integrations::begin_outgoing_call(recorder, outgoing, options.parent);
  // Synchronous: current on this thread for the transfer, so callbacks nest under the call.
  ContextScope attach(call.context());

  HeaderList headers;
  std::string trace_header;
  try {
    trace_header = integrations::outgoing_trace_header(call);
  } catch (...) {
  }
  curl_slist* sent = options.headers;
  if (!trace_header.empty()) {
    bool built = true;
    for (curl_slist* item = options.headers; item != nullptr && built; item = item->next) {
      if (item->data != nullptr && !is_trace_header_line(item->data)) built = headers.append(item->data);
    }
    std::string line;
    try {
      line = std::string(TraceHeader::kHeaderName) + ": " + trace_header;
    } catch (...) {
      built = false;
    }
    if (!built || !headers.append(line.c_str())) {
      call.set_fault();
      return CURLE_OUT_OF_MEMORY;
    }
    sent = headers.get();
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, sent);
  code = curl_easy_perform(easy);
  // Never leave the handle pointing at our list, which is freed on return.
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, options.headers);

  if (!call.sampled()) return code;
  try {
    char* method = nullptr;
    if (call.sampled() && curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_METHOD, &method) == CURLE_OK &&
        method != nullptr) {
      outgoing.method = method;
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
    if (status > 0) {
      curl_off_t length = -1;
      if (curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) != CURLE_OK ||
          length < 0) {
        curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &length);
      }
      integrations::record_response(call, static_cast<int>(status),
                                    length >= 0 ? std::optional<std::uint64_t>(length) : std::nullopt);
    }
  } catch (...) {
    // Out of memory while recording: the transfer's result is what matters.
  }
  return code;
}

}  // namespace xray::curl
