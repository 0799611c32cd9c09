// What an AWS request and response say, as JSON objects the allow-list reads: the JSON or form
// body, and the REST bindings of Lambda and S3 (path, query, headers).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "xray/aws.hpp"

namespace xray::aws::detail {

// Bodies beyond this are not parsed for parameters (the call is still recorded).
inline constexpr std::size_t kMaxParsedBodyBytes = 1 << 20;
// Response bodies are parsed only up to this size (they are read on the request thread).
inline constexpr std::size_t kMaxParsedResponseBytes = 64 * 1024;

// The first value of header `name` (case-insensitive), or empty.
std::string_view header_value(const Headers& headers, std::string_view name) noexcept;

// Whether `body` starts (after blanks) with '{'.
bool looks_like_json(std::string_view body) noexcept;

// Calls `visit(name, value)`, both still percent-encoded, for each name[=value] pair of an
// application/x-www-form-urlencoded body or a URL query (one leading '?' is skipped); `value` is
// empty for a bare name. Stops early when `visit` returns false.
template <class Visit>
void for_each_form_pair(std::string_view form, Visit visit) {
  if (!form.empty() && form.front() == '?') form.remove_prefix(1);
  while (!form.empty()) {
    const auto amp = form.find('&');
    const std::string_view pair = form.substr(0, amp);
    form = amp == std::string_view::npos ? std::string_view() : form.substr(amp + 1);
    const auto eq = pair.find('=');
    if (pair.empty() || eq == 0) continue;
    if (!visit(pair.substr(0, eq),
               eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1))) {
      return;
    }
  }
}

// The percent-decoded value of `key` in a form body or query, or empty.
std::string form_value(std::string_view form, std::string_view key);
// Whether a form body or query names `key` (with or without a value: S3's "?acl").
bool has_form_key(std::string_view form, std::string_view key);

// The segments of a URL path after its leading '/', without a trailing empty one.
std::vector<std::string_view> path_segments(std::string_view path);

struct S3Location {
  std::string bucket;
  std::string key;
};
// The bucket (virtual-hosted or path-style) and key of an S3 request.
S3Location s3_location(std::string_view host, std::string_view path);

// The request's parameters named in `wanted`: the JSON body's top-level members, or the form
// body's fields, plus the REST bindings of Lambda (FunctionName, Qualifier, InvocationType,
// LogType) and S3 (Bucket, Key, VersionId, Prefix, CopySource). Other members are skipped while
// parsing, never built.
nlohmann::json request_view(const CallIdentity& identity, const HttpCall& request,
                            const std::vector<std::string>& wanted);

// The response's parameters named in `wanted`: the JSON body's top-level members, plus Lambda's
// StatusCode (the HTTP status) and FunctionError (X-Amz-Function-Error).
nlohmann::json response_view(const CallIdentity& identity, const CallOutcome& outcome,
                             const std::vector<std::string>& wanted);

}  // namespace xray::aws::detail
