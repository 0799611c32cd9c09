// Recognising an AWS API request on the wire: which service, operation and region it calls
// (xray::aws::identify).
#include <string>
#include <vector>

#include "aws/request_view.hpp"
#include "aws/service_names.hpp"
#include "base/ascii.hpp"
#include "base/host.hpp"
#include "xray/aws.hpp"

namespace xray::aws {
namespace {

using xray::detail::iequals;

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

bool looks_like_region(std::string_view label) {
  // us-east-1, eu-central-2, us-gov-west-1, cn-north-1: letters, dashes, a final digit.
  return label.size() >= 6 && label.find('-') != std::string_view::npos && label.back() >= '0' &&
         label.back() <= '9';
}

struct HostFacts {
  std::string service;  // endpoint prefix
  std::string region;
  std::string bucket;  // S3 virtual-hosted bucket
};

// "dynamodb.us-east-1.amazonaws.com", "runtime.sagemaker.eu-west-1.amazonaws.com",
// "bucket.s3.us-west-2.amazonaws.com", "s3.amazonaws.com", "sts.amazonaws.com".
std::optional<HostFacts> parse_aws_host(std::string_view host) {
  host = xray::detail::host_without_port(host);
  std::string_view rest;
  if (xray::detail::iends_with(host, ".amazonaws.com")) {
    rest = host.substr(0, host.size() - std::string_view(".amazonaws.com").size());
  } else if (xray::detail::iends_with(host, ".amazonaws.com.cn")) {
    rest = host.substr(0, host.size() - std::string_view(".amazonaws.com.cn").size());
  } else {
    return std::nullopt;
  }
  std::vector<std::string_view> labels = split(rest, '.');
  HostFacts facts;
  // S3: [bucket.]s3[.region|-region][.dualstack]...
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string_view label = labels[i];
    if (iequals(label, "s3") || (label.size() > 3 && iequals(label.substr(0, 3), "s3-"))) {
      facts.service = "s3";
      if (label.size() > 3 && looks_like_region(label.substr(3))) facts.region = label.substr(3);
      if (i + 1 < labels.size() && looks_like_region(labels[i + 1])) facts.region = labels[i + 1];
      for (std::size_t j = 0; j < i; ++j) {
        if (j > 0) facts.bucket += '.';
        facts.bucket += labels[j];
      }
      return facts;
    }
  }
  std::size_t end = labels.size();
  if (end >= 2 && looks_like_region(labels[end - 1])) facts.region = labels[--end];
  for (std::size_t i = 0; i < end; ++i) {
    if (i > 0) facts.service += '.';
    facts.service += labels[i];
  }
  if (facts.service.empty()) return std::nullopt;
  return facts;
}

// "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=..."
bool parse_authorization(std::string_view value, std::string& region, std::string& service) {
  value = xray::detail::trim(value);
  constexpr std::string_view kScheme = "AWS4-HMAC-SHA256";
  if (value.size() < kScheme.size() || !iequals(value.substr(0, kScheme.size()), kScheme))
    return false;
  const auto at = value.find("Credential=");
  if (at == std::string_view::npos) return false;
  std::string_view credential = value.substr(at + std::string_view("Credential=").size());
  credential = credential.substr(0, credential.find_first_of(", "));
  std::vector<std::string_view> scope = split(credential, '/');
  if (scope.size() != 5 || scope[4] != "aws4_request") return false;
  region = scope[2];
  service = scope[3];
  return true;
}

// libcurl's CURLOPT_AWS_SIGV4: "provider1[:provider2[:region[:service]]]".
void parse_curl_sigv4(std::string_view value, std::string& region, std::string& service) {
  std::vector<std::string_view> parts = split(value, ':');
  if (parts.size() >= 3) region = parts[2];
  if (parts.size() >= 4) service = parts[3];
}

// The common S3 REST routes (method, bucket, key, sub-resource).
std::string s3_operation(std::string_view method, bool has_bucket, bool has_key,
                         std::string_view query, const Headers* headers) {
  auto q = [&](std::string_view key) { return detail::has_form_key(query, key); };
  if (!has_bucket) return iequals(method, "GET") ? "ListBuckets" : "";
  if (has_key) {
    if (iequals(method, "GET"))
      return q("acl") ? "GetObjectAcl" : q("tagging") ? "GetObjectTagging" : "GetObject";
    if (iequals(method, "HEAD")) return "HeadObject";
    if (iequals(method, "PUT")) {
      if (q("uploadId")) return "UploadPart";
      if (q("tagging")) return "PutObjectTagging";
      if (q("acl")) return "PutObjectAcl";
      if (headers != nullptr && !detail::header_value(*headers, "x-amz-copy-source").empty())
        return "CopyObject";
      return "PutObject";
    }
    if (iequals(method, "DELETE")) {
      if (q("uploadId")) return "AbortMultipartUpload";
      return q("tagging") ? "DeleteObjectTagging" : "DeleteObject";
    }
    if (iequals(method, "POST")) {
      if (q("uploads")) return "CreateMultipartUpload";
      if (q("uploadId")) return "CompleteMultipartUpload";
      if (q("restore")) return "RestoreObject";
    }
    return "";
  }
  if (iequals(method, "GET")) {
    if (q("list-type")) return "ListObjectsV2";
    if (q("versions")) return "ListObjectVersions";
    if (q("uploads")) return "ListMultipartUploads";
    if (q("location")) return "GetBucketLocation";
    if (q("acl")) return "GetBucketAcl";
    if (q("policy")) return "GetBucketPolicy";
    if (q("tagging")) return "GetBucketTagging";
    return "ListObjects";
  }
  if (iequals(method, "HEAD")) return "HeadBucket";
  if (iequals(method, "PUT"))
    return q("acl") ? "PutBucketAcl" : q("policy") ? "PutBucketPolicy" : "CreateBucket";
  if (iequals(method, "DELETE")) return q("policy") ? "DeleteBucketPolicy" : "DeleteBucket";
  if (iequals(method, "POST") && q("delete")) return "DeleteObjects";
  return "";
}

std::string lambda_operation(std::string_view path) {
  // POST /2015-03-31/functions/{FunctionName}/invocations, POST
  // /2014-11-13/functions/{f}/invoke-async/
  std::vector<std::string_view> segments = detail::path_segments(path);
  if (segments.size() == 4 && segments[1] == "functions") {
    if (segments[3] == "invocations") return "Invoke";
    if (segments[3] == "invoke-async") return "InvokeAsync";
  }
  return "";
}

}  // namespace

std::optional<CallIdentity> identify(const HttpCall& request) {
  std::string region;
  std::string signing_service;
  bool recognised = false;
  if (!request.sigv4.empty()) {
    parse_curl_sigv4(request.sigv4, region, signing_service);
    recognised = true;
  }
  std::string_view target;
  if (request.headers != nullptr) {
    std::string auth_region;
    std::string auth_service;
    if (parse_authorization(detail::header_value(*request.headers, "authorization"), auth_region,
                            auth_service)) {
      if (region.empty()) region = auth_region;
      if (signing_service.empty()) signing_service = auth_service;
      recognised = true;
    }
    target = detail::header_value(*request.headers, "x-amz-target");
    if (!target.empty()) recognised = true;
  }
  std::optional<HostFacts> host = parse_aws_host(request.host);
  if (host) recognised = true;
  if (!recognised) return std::nullopt;

  CallIdentity identity;
  std::string target_service;
  if (!target.empty()) {
    // "DynamoDB_20120810.GetItem", "AmazonSQS.SendMessage"
    const auto dot = target.rfind('.');
    if (dot != std::string_view::npos) {
      identity.operation = target.substr(dot + 1);
      target_service = detail::service_from_target_prefix(target.substr(0, dot));
    }
  }
  // The service: the name SigV4 signs with, else the endpoint prefix, else the target's.
  if (!signing_service.empty()) {
    identity.service = service_name(signing_service);
  } else if (host && !host->service.empty()) {
    identity.service = service_name(host->service);
  } else {
    identity.service = target_service;
  }
  if (identity.service.empty()) return std::nullopt;
  identity.region = !region.empty() ? region : host ? host->region : std::string();

  if (identity.operation.empty()) {
    std::string action = detail::form_value(request.query, "Action");
    if (action.empty() && !detail::looks_like_json(request.body)) {
      action = detail::form_value(request.body, "Action");
    }
    if (!action.empty()) {
      identity.operation = std::move(action);
    } else if (identity.service == "Lambda") {
      identity.operation = lambda_operation(request.path);
    } else if (identity.service == "S3") {
      detail::S3Location location = detail::s3_location(request.host, request.path);
      identity.operation = s3_operation(request.method, !location.bucket.empty(),
                                        !location.key.empty(), request.query, request.headers);
    }
  }
  return identity;
}

}  // namespace xray::aws
