// xray/aws.hpp: AWS API calls as X-Ray `aws` subsegments (spec §10), free of any AWS SDK.
//
// The HTTP integrations (xray/curl.hpp, xray/beast.hpp) and the aws-sdk-cpp adapter
// (xray/aws_sdk.hpp) use this mapping; a service with its own HTTP client can too:
//
//   xray::aws::CallIdentity id = xray::aws::identify(request);   // or fill it in yourself
//   xray::SubsegmentScope call = xray::aws::begin_call(recorder, id);
//   request.headers.push_back({"X-Amzn-Trace-Id", call.outbound_header().to_string()});
//   ... sign (the trace header is signed like any other, or skipped by the AWS SDKs' signers), send
//   ... xray::aws::CallOutcome outcome; outcome.status = 400; outcome.response_headers = ...;
//   outcome.response_body = body; xray::aws::record_call(call, id, request, outcome);
//
// What a call records: name = the X-Ray service name ("DynamoDB", "SQS", "SNS", "Lambda", "S3",
// "SageMaker Runtime", ...), namespace "aws", aws.operation, aws.region, aws.retries (0 for one
// attempt), aws.request_id (x-amzn-RequestId, or x-amz-request-id and aws.id_2 = x-amz-id-2 for
// S3) when the response has one, the allow-listed request and response parameters, and
// http.response status and content_length. Flags: 4xx error; 429 or a throttling error code
// throttle + error; 5xx fault; no response fault. A service error becomes an exception with
// remote = true, whose type is the bare error code ("ResourceNotFoundException") and whose message
// is the service's.
//
// Thread safety: every function here is safe to call concurrently. ParameterAllowList is a value
// type: const access from many threads is safe; changing one while another thread reads it is not.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xray/context.hpp"
#include "xray/export.hpp"
#include "xray/recorder.hpp"
#include "xray/subsegment_scope.hpp"

namespace xray::aws {

// Header name/value pairs; names compare case-insensitively.
using Headers = std::vector<std::pair<std::string, std::string>>;

// Which AWS API a request calls.
struct CallIdentity {
  std::string service;    // the X-Ray service name, e.g. "DynamoDB" (see service_name())
  std::string operation;  // e.g. "GetItem"; empty when it could not be told
  std::string region;     // e.g. "us-east-1"; empty when unknown
};

// The request as it goes on the wire. Only what is set is used.
struct HttpCall {
  std::string_view method;  // "POST"
  std::string_view host;    // "dynamodb.us-east-1.amazonaws.com" (a port is ignored)
  std::string_view path;    // "/2015-03-31/functions/f/invocations"
  std::string_view query;   // with or without its leading '?'
  const Headers* headers = nullptr;
  std::string_view body;  // JSON (JSON protocols) or form-encoded (query protocols)
  // libcurl's CURLOPT_AWS_SIGV4 value, "provider1[:provider2[:region[:service]]]"
  // (e.g. "aws:amz:us-east-1:dynamodb"), when the request is signed that way.
  std::string_view sigv4;
};

// The outcome of the call, after the last attempt.
struct CallOutcome {
  int status = 0;  // HTTP status; 0: no response (refused, reset, timed out)
  Headers response_headers;
  std::string_view response_body;  // the body when the caller has it (errors, small JSON replies)
  std::optional<std::uint64_t> content_length;
  int retries = 0;  // attempts - 1
  // A service error as an AWS SDK reports it, when it does; otherwise the error code and message
  // are read from the response (x-amzn-ErrorType, a JSON __type/code/message, an XML <Code>).
  std::string error_code;
  std::string error_message;
  bool throttling = false;  // the SDK classified the error as throttling
};

// The X-Ray service name for an AWS service id, signing name or endpoint prefix, as the AWS SDKs
// name services: "dynamodb" -> "DynamoDB", "sqs" -> "SQS", "runtime.sagemaker" ->
// "SageMaker Runtime", "DynamoDB" -> "DynamoDB". Unknown names are returned unchanged.
XRAY_EXPORT std::string service_name(std::string_view any_name);

// Recognises an AWS API request: a SigV4 request (`sigv4`, or an
// `Authorization: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request`
// header), an `X-Amz-Target` header, or a host under amazonaws.com. The operation comes from
// X-Amz-Target (JSON protocols), Action= (query protocols), the Lambda Invoke route or the S3 REST
// route. Nullopt for anything else (the call is then an ordinary `remote` HTTP call).
XRAY_EXPORT std::optional<CallIdentity> identify(const HttpCall& request);

// The allow-list of request and response parameters recorded under `aws`, in the data format of
// the official SDKs (aws_para_whitelist.json):
//   {"services": {"dynamodb": {"operations": {"GetItem": {
//       "request_parameters": ["TableName"], "response_parameters": ["ConsumedCapacity"],
//       "request_descriptors": {"RequestItems": {"map": true, "get_keys": true,
//                                                "rename_to": "table_names"}},
//       "response_descriptors": {"Messages": {"list": true, "get_count": true,
//                                              "rename_to": "message_count"}}}}}}}
// Service keys are lower-case endpoint prefixes ("dynamodb", "sqs", "sns", "lambda", "s3",
// "runtime.sagemaker"), operations PascalCase. Parameters are written under their snake_case name
// (to_snake_case), descriptors under `rename_to` (or the snake_case name).
class XRAY_EXPORT ParameterAllowList {
 public:
  // Empty: records no parameters.
  ParameterAllowList() = default;
  // The official SDKs' list for DynamoDB, SQS, SNS, Lambda, S3 and SageMaker runtime.
  static const ParameterAllowList& defaults();
  // Parses a document in the format above. On error returns nullopt and says why in `error`.
  static std::optional<ParameterAllowList> parse(std::string_view json,
                                                 std::string* error = nullptr);
  // Adds the services and operations of `more`; an operation present in both is replaced by the
  // one in `more`.
  void extend(const ParameterAllowList& more);
  bool empty() const noexcept { return services_.empty(); }

  // Fills `aws` with the allow-listed parameters of `operation` of `service` (any of the names
  // service_name() accepts) found in the request and response views (JSON objects).
  void apply(std::string_view service, std::string_view operation, const nlohmann::json& request,
             const nlohmann::json& response, nlohmann::json& aws) const;
  // The top-level members of the request (or, with `response`, the response) that `operation` of
  // `service` reads: its parameters and descriptor names, once each, so a caller parses only
  // those.
  std::vector<std::string> parameter_names(std::string_view service, std::string_view operation,
                                           bool response) const;

 private:
  struct Index;  // the list compiled for per-call lookups (src/aws/allow_list_index.hpp)
  void rebuild_index();

  nlohmann::json services_ = nlohmann::json::object();
  std::shared_ptr<const Index> index_;  // immutable once built: copies share it

  friend void record_request(SubsegmentScope& call, const CallIdentity& identity,
                             const HttpCall& request,
                             const ParameterAllowList& allow_list) noexcept;
  friend void record_outcome(SubsegmentScope& call, const CallIdentity& identity,
                             const CallOutcome& outcome,
                             const ParameterAllowList& allow_list) noexcept;
};

// "TableName" -> "table_name", "SSEKMSKeyId" -> "ssekms_key_id" (spec §10).
XRAY_EXPORT std::string to_snake_case(std::string_view name);

// Whether an AWS error code is a throttling error ("ThrottlingException",
// "ProvisionedThroughputExceededException", "SlowDown", ...), as the AWS SDKs classify them.
XRAY_EXPORT bool is_throttling_error(std::string_view code) noexcept;

// The error code and message of an AWS error response: x-amzn-ErrorType, a JSON body's
// __type/code and message/Message, or an XML body's <Code> and <Message>. The code is bare: a
// protocol prefix ("com.amazonaws.dynamodb.v20120810#") or suffix (":http://...") is removed.
// Both empty when the response says nothing readable.
struct ErrorDetails {
  std::string code;
  std::string message;
};
XRAY_EXPORT ErrorDetails parse_error(const Headers& headers, std::string_view body);

// An error code without its protocol prefix or suffix, as parse_error gives it:
// "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" -> "ResourceNotFoundException".
XRAY_EXPORT std::string bare_error_code(std::string_view code);

// Begins the call's subsegment under `parent` (else this thread's current entity; else the
// context-missing strategy applies), named identity.service, namespace "aws", aws.operation. It
// is not made current on this thread: the call may complete elsewhere. Never throws, except
// ContextMissingError under ContextMissing::kRuntimeError.
XRAY_EXPORT SubsegmentScope begin_call(Recorder& recorder, const CallIdentity& identity,
                                       const Context& parent = {});

// Records the outcome on `call` as described at the top of this file: record_request, then
// record_outcome. Never throws.
XRAY_EXPORT void record_call(
    SubsegmentScope& call, const CallIdentity& identity, const HttpCall& request,
    const CallOutcome& outcome,
    const ParameterAllowList& allow_list = ParameterAllowList::defaults()) noexcept;

// The request half, for clients that no longer hold the request when the response arrives:
// the allow-listed request parameters (from the body, path, query and headers; a body up to
// 1 MiB is scanned, and only its allow-listed members are parsed). Never throws.
XRAY_EXPORT void record_request(
    SubsegmentScope& call, const CallIdentity& identity, const HttpCall& request,
    const ParameterAllowList& allow_list = ParameterAllowList::defaults()) noexcept;

// The outcome half: region, retries, request ids, the allow-listed response parameters (the
// response body is parsed only when the operation names some, and only up to 64 KiB),
// http.response, flags and the service error. Never throws.
XRAY_EXPORT void record_outcome(
    SubsegmentScope& call, const CallIdentity& identity, const CallOutcome& outcome,
    const ParameterAllowList& allow_list = ParameterAllowList::defaults()) noexcept;

}  // namespace xray::aws
