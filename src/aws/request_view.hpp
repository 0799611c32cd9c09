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

// "host:port" or "[v6]:port" -> the host.
std::string_view host_of(std::string_view authority) noexcept;

// Whether `body` starts (after blanks) with '{'.
bool looks_like_json(std::string_view body) noexcept;

// The percent-decoded value of `key` in an application/x-www-form-urlencoded string, or empty.
std::string form_value(std::string_view form, std::string_view key);

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
