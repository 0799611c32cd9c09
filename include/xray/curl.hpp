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
// AWS calls (spec §10): a request to an AWS API becomes an `aws` subsegment instead of a `remote`
// one (see xray/aws.hpp): named after the service ("DynamoDB"), with aws.operation, region,
// request_id, retries, the allow-listed parameters, and the service error as a remote cause. It is
// recognised by `options.aws_sigv4` (libcurl's CURLOPT_AWS_SIGV4, which `perform` sets), an
// X-Amz-Target or SigV4 Authorization header in `options.headers`, or an amazonaws.com host; name
// it explicitly with `options.aws` for an endpoint that shows none of these. The trace header is
// in the header list before libcurl signs it and never changes afterwards, so SigV4 holds.
// For parameters and error codes the SDK needs the bodies: pass the request body in
// `options.body` (sent as CURLOPT_POSTFIELDS) and let `perform` collect the response in
// `options.response_body`.
//
//   std::string reply;
//   xray::curl::Options options;
//   options.headers = headers;   // Content-Type, X-Amz-Target: DynamoDB_20120810.GetItem
//   options.aws_sigv4 = "aws:amz:us-east-1:dynamodb";
//   options.body = R"({"TableName":"users","Key":{"id":{"S":"42"}}})";
//   options.response_body = &reply;
//   curl_easy_setopt(easy, CURLOPT_USERPWD, "AKID:SECRET");
//   xray::curl::perform(easy, "https://dynamodb.us-east-1.amazonaws.com/", options);
//
// Headers: the call sets CURLOPT_HTTPHEADER to a copy of `options.headers` (any X-Amzn-Trace-Id
// line dropped) plus the trace header, and afterwards back to `options.headers`, so the handle
// never keeps a pointer to the SDK's list. A list set on the handle with CURLOPT_HTTPHEADER
// beforehand is replaced: pass it in `options.headers`.
//
// Errors: never throws, except xray::ContextMissingError when there is no current entity and the
// recorder is configured with ContextMissing::kRuntimeError (then nothing is performed).
//
// Thread safety: `perform` may be called concurrently on distinct easy handles (distinct objects
// safe, shared objects unsafe), as libcurl itself requires.
#pragma once

#include <curl/curl.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "xray/aws.hpp"
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
  // Also send W3C `traceparent` (replacing a line of the caller's; `tracestate` is left as it is),
  // for a downstream service on OpenTelemetry. Not sent when the ids cannot be W3C's (no-op ids).
  bool inject_traceparent = false;
  // Null: xray::Recorder::global(). Must outlive the call.
  Recorder* recorder = nullptr;

  // Request body: when set, sent as CURLOPT_POSTFIELDS (not copied; it only has to outlive the
  // call) and read for the AWS call's parameters.
  std::optional<std::string_view> body;
  // When set, the response body is appended here (perform installs its own CURLOPT_WRITEFUNCTION
  // for the transfer and restores libcurl's default afterwards).
  std::string* response_body = nullptr;
  // When set, perform sets CURLOPT_AWS_SIGV4 to it ("aws:amz:<region>:<service>") and the call is
  // recorded as an AWS call of that service and region.
  std::string_view aws_sigv4;
  // Names the AWS call explicitly (service, operation, region); wins over recognition. An empty
  // operation is still told from the request.
  std::optional<aws::CallIdentity> aws;
  // The parameters AWS calls record; null: aws::ParameterAllowList::defaults(). Must outlive the
  // call.
  const aws::ParameterAllowList* aws_parameters = nullptr;
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
