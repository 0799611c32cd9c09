// xray/curl.hpp: X-Ray tracing for libcurl easy transfers (target AWSXRay::curl).
//
// `xray::curl::perform` replaces `curl_easy_perform`: it begins a "remote" subsegment named after
// the URL's host under the current entity, injects `X-Amzn-Trace-Id` (Root, Parent = the
// subsegment, Sampled, and the incoming header's extras such as Lineage), performs the transfer and
// records method, url (no userinfo; no query unless asked), status and content length; a transfer
// that gets no response records fault + cause. The caller gets libcurl's result unchanged.
//
//   CURL* easy = curl_easy_init();
//   curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
//   xray::curl::Options options;
//   options.headers = headers;              // your headers go through `options`, not setopt
//   CURLcode code = xray::curl::perform(easy, "http://inventory:8080/items/42", options);
//   long status = 0;
//   curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
//   curl_slist_free_all(headers);
//
// Headers: the call sets CURLOPT_HTTPHEADER to a copy of `options.headers` (any X-Amzn-Trace-Id
// line dropped) plus the trace header, and afterwards back to `options.headers`, so the handle never
// keeps a pointer to the SDK's list. A list set on the handle with CURLOPT_HTTPHEADER beforehand is
// replaced: pass it in `options.headers`.
//
// Errors: never throws, except xray::ContextMissingError when there is no current entity and the
// recorder is configured with ContextMissing::kRuntimeError (then nothing is performed).
//
// Thread safety: `perform` may be called concurrently on distinct easy handles (distinct objects
// safe, shared objects unsafe), as libcurl itself requires.
#pragma once

#include <curl/curl.h>

#include <stdexcept>
#include <string>
#include <string_view>

#include "xray/context.hpp"
#include "xray/export.hpp"
#include "xray/recorder.hpp"

namespace xray::curl {

struct Options {
  // Parent of the subsegment; empty: this thread's current entity.
  Context parent;
  // The caller's request headers (may be null); not modified, not owned.
  curl_slist* headers = nullptr;
  // The downstream service is traced too (http.request.traced, spec §9.2).
  bool traced = false;
  // Keep the query string in http.request.url.
  bool record_query = false;
  // Null: xray::Recorder::global(). Must outlive the call.
  Recorder* recorder = nullptr;
};

// The exception recorded as the cause of a transfer that failed (type "xray::curl::TransferError").
class XRAY_EXPORT TransferError : public std::runtime_error {
 public:
  TransferError(CURLcode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  CURLcode code() const noexcept { return code_; }

 private:
  CURLcode code_;
};

// Sets CURLOPT_URL to `url`, then performs the transfer traced as above. Returns what
// curl_easy_perform returned (or CURLE_OUT_OF_MEMORY if the header list could not be built).
XRAY_EXPORT CURLcode perform(CURL* easy, std::string_view url, const Options& options = {});

}  // namespace xray::curl
