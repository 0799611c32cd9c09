// The aws-sdk-cpp monitor: translates what aws-sdk-cpp's MonitoringInterface callbacks show into
// the plain values of awssdk/call_registry.hpp. Every decision (names, flags, causes, parameters)
// is the SDK-free mapping's (xray/aws.hpp); this file only copies SDK types into std ones.
#include <aws/core/VersionConfig.h>
#include <aws/core/client/AWSError.h>
#include <aws/core/client/CoreErrors.h>
#include <aws/core/http/HttpRequest.h>
#include <aws/core/http/HttpResponse.h>
#include <aws/core/http/HttpTypes.h>
#include <aws/core/monitoring/CoreMetrics.h>
#include <aws/core/monitoring/MonitoringFactory.h>
#include <aws/core/monitoring/MonitoringInterface.h>
#include <aws/core/utils/memory/AWSMemory.h>
#include <aws/core/utils/stream/ResponseStream.h>

#include <cstddef>
#include <ios>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "awssdk/call_registry.hpp"
#include "base/ascii.hpp"
#include "xray/aws_sdk.hpp"
#include "xray/errors.hpp"
#include "xray/trace_header.hpp"

// Compile-checked against aws-sdk-cpp 1.11.117 and 1.11.332 (scripts/check_aws_sdk_adapter.sh);
// what differs between 1.11 releases is detected, not assumed (should_throttle, the serialization
// hooks below, ContextPropagatingExecutor::WaitUntilStopped). The callbacks' order and the request
// object they get are aws-sdk-cpp implementation details (see xray/aws_sdk.hpp).
#if !defined(AWS_SDK_VERSION_MAJOR) || AWS_SDK_VERSION_MAJOR != 1 || AWS_SDK_VERSION_MINOR < 11
#error "AWSXRay::awssdk needs aws-sdk-cpp 1.11 or a later 1.x"
#endif

namespace xray::aws_sdk {
namespace {

using Aws::Http::HttpRequest;
using RequestPtr = std::shared_ptr<const HttpRequest>;
using detail::Attempt;
using detail::CallRecord;
using detail::CallRegistry;

constexpr const char* kAllocationTag = "AWSXRay";

std::string to_std(const Aws::String& text) { return std::string(text.data(), text.size()); }
std::string_view view(const Aws::String& text) noexcept {
  return std::string_view(text.data(), text.size());
}

std::string header_of(const HttpRequest& request, const char* name) {
  // GetHeaderValue asserts that the header exists.
  return request.HasHeader(name) ? to_std(request.GetHeaderValue(name)) : std::string();
}

bool is_secret_header(std::string_view lower_name) noexcept {
  return lower_name == "authorization" || lower_name == "x-amz-security-token";
}

aws::Headers headers_of(const Aws::Http::HeaderValueCollection& headers) {
  aws::Headers out;
  out.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    std::string lower = xray::detail::lowercase(view(name));
    if (is_secret_header(lower)) continue;
    out.emplace_back(std::move(lower), to_std(value));
  }
  return out;
}

// A body that is the operation's serialized input or output: the JSON protocols
// (application/x-amz-json-1.0/1.1: DynamoDB, SQS, ...) and the query protocols' forms (SNS, ...).
// REST protocols' bodies are left alone: there the body is a payload of the caller's (an S3
// object, a Lambda Invoke payload or result, in whatever content type), and the parameters the
// mapping records for those operations are in the path, query and headers.
bool is_protocol_json(std::string_view content_type) noexcept {
  return xray::detail::istarts_with(content_type, "application/x-amz-json");
}
bool is_protocol_body(std::string_view content_type) noexcept {
  return is_protocol_json(content_type) ||
         xray::detail::istarts_with(content_type, "application/x-www-form-urlencoded");
}

// The whole content of a seekable stream of at most `limit` bytes, leaving the stream's position
// and state as they were. Empty when the stream is larger, not seekable or fails.
std::string read_back(std::istream& stream, std::size_t limit) {
  const std::ios_base::iostate state = stream.rdstate();
  stream.clear();
  const std::streampos position = stream.tellg();
  std::string content;
  if (position != std::streampos(-1)) {
    stream.seekg(0, std::ios_base::end);
    const std::streamoff size = stream.tellg() - std::streampos(0);
    if (stream && size >= 0 && static_cast<std::size_t>(size) <= limit) {
      stream.seekg(0, std::ios_base::beg);
      content.resize(static_cast<std::size_t>(size));
      stream.read(content.data(), size);
      if (stream.gcount() != size) content.clear();
    }
    stream.clear();
    stream.seekg(position);
  }
  stream.clear(state);
  return content;
}

// What the attempt's request carried, after signing and sending.
void copy_request(const HttpRequest& request, Attempt& attempt) {
  attempt.method = Aws::Http::HttpMethodMapper::GetNameForHttpMethod(request.GetMethod());
  const Aws::Http::URI& uri = request.GetUri();
  attempt.host = to_std(uri.GetAuthority());
  attempt.path = to_std(uri.GetURLEncodedPath());
  attempt.query = to_std(uri.GetQueryString());
  if (!attempt.query.empty() && attempt.query.front() == '?') attempt.query.erase(0, 1);
  attempt.request_headers = headers_of(request.GetHeaders());
  attempt.signing_region = to_std(request.GetSigningRegion());
  const std::shared_ptr<Aws::IOStream>& body = request.GetContentBody();
  if (body && is_protocol_body(header_of(request, Aws::Http::CONTENT_TYPE_HEADER))) {
    attempt.request_body = read_back(*body, detail::kMaxRequestBodyBytes);
  }
}

// The response stream is the SDK's own string stream (not a stream factory of the caller's).
bool default_response_stream(const HttpRequest& request) noexcept {
  using Factory = Aws::IOStream* (*)();
  const Factory* factory = request.GetResponseStreamFactory().target<Factory>();
  return factory != nullptr && *factory == &Aws::Utils::Stream::DefaultResponseStreamFactoryMethod;
}

template <typename Error, typename = void>
struct HasShouldThrottle : std::false_type {};
template <typename Error>
struct HasShouldThrottle<Error,
                         std::void_t<decltype(std::declval<const Error&>().ShouldThrottle())>>
    : std::true_type {};

// AWSError::ShouldThrottle() (the retry strategy's throttling class) appeared during 1.11 (it is
// in 1.11.332, not in 1.11.117); without it the mapping judges by the error code alone.
template <typename Error>
bool should_throttle(const Error& error) {
  if constexpr (HasShouldThrottle<Error>::value) {
    return error.ShouldThrottle();
  } else {
    return false;
  }
}

class Monitor final : public Aws::Monitoring::MonitoringInterface {
 public:
  explicit Monitor(const MonitoringOptions& options)
      : registry_(options.recorder, options.allow_list),
        read_response_body_(options.read_response_body) {}

  void* OnRequestStarted(const Aws::String& service_name, const Aws::String& request_name,
                         const RequestPtr& request) const override {
    if (!request) return nullptr;
    try {
      aws::CallIdentity identity;
      identity.service = aws::service_name(view(service_name));
      identity.operation = to_std(request_name);
      // Smithy clients: set before every attempt. Legacy AWSClient: not yet set (new call).
      const std::string invocation_id = header_of(*request, Aws::Http::SDK_INVOCATION_ID_HEADER);
      CallRecord* record = registry_.start(identity, invocation_id);
      if (record != nullptr) set_trace_header(*request, record->trace_header);
      return record;
    } catch (const ContextMissingError&) {
      return nullptr;  // never thrown into aws-sdk-cpp (see the header)
    } catch (...) {
      return nullptr;
    }
  }

  void OnRequestSucceeded(const Aws::String&, const Aws::String&, const RequestPtr& request,
                          const Aws::Client::HttpResponseOutcome& outcome,
                          const Aws::Monitoring::CoreMetricsCollection&,
                          void* context) const override {
    auto* record = static_cast<CallRecord*>(context);
    if (record == nullptr || !record->call.sampled()) return;
    try {
      Attempt attempt;
      if (request) copy_request(*request, attempt);
      const std::shared_ptr<Aws::Http::HttpResponse>& response = outcome.GetResult();
      if (response) {
        attempt.status = static_cast<int>(response->GetResponseCode());
        attempt.response_headers = headers_of(response->GetHeaders());
        if (request && wants_response_body(*record, *request, *response)) {
          attempt.response_body =
              read_back(response->GetResponseBody(), detail::kMaxResponseBodyBytes);
        }
      }
      record->last = std::move(attempt);
    } catch (...) {
      // Out of memory: the call records what the previous attempt left.
    }
  }

  void OnRequestFailed(const Aws::String&, const Aws::String&, const RequestPtr& request,
                       const Aws::Client::HttpResponseOutcome& outcome,
                       const Aws::Monitoring::CoreMetricsCollection&,
                       void* context) const override {
    auto* record = static_cast<CallRecord*>(context);
    if (record == nullptr || !record->call.sampled()) return;
    try {
      Attempt attempt;
      if (request) copy_request(*request, attempt);
      const Aws::Client::AWSError<Aws::Client::CoreErrors>& error = outcome.GetError();
      attempt.status = static_cast<int>(error.GetResponseCode());  // REQUEST_NOT_MADE is -1
      attempt.response_headers = headers_of(error.GetResponseHeaders());
      attempt.error_code = to_std(error.GetExceptionName());
      attempt.error_message = to_std(error.GetMessage());
      attempt.throttling = should_throttle(error);
      record->last = std::move(attempt);
    } catch (...) {
    }
  }

  void OnRequestRetry(const Aws::String&, const Aws::String&, const RequestPtr& request,
                      void* context) const override {
    auto* record = static_cast<CallRecord*>(context);
    if (record == nullptr) return;
    registry_.retry(record);
    // The legacy AWSClient passes the next attempt's new request here and calls no
    // OnRequestStarted for it.
    if (request) set_trace_header(*request, record->trace_header);
  }

  void OnFinish(const Aws::String&, const Aws::String&, const RequestPtr&,
                void* context) const override {
    registry_.finish(static_cast<CallRecord*>(context));
  }

#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Winconsistent-missing-override"
#endif
  // Pure virtual in later 1.11 releases, absent from earlier ones: declared without `override` so
  // that the adapter compiles against both. Nothing to record.
  virtual void OnSerializeStarted(const Aws::String&, const Aws::String&, const RequestPtr&,
                                  void*) const {}
  virtual void OnDeserializeStarted(const Aws::String&, const Aws::String&, const RequestPtr&,
                                    void*) const {}
  virtual void OnSerialized(const Aws::String&, const Aws::String&, const RequestPtr&,
                            void*) const {}
  virtual void OnDeserialized(const Aws::String&, const Aws::String&, const RequestPtr&,
                              void*) const {}
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

 private:
  // aws-sdk-cpp hands monitors the request as const, but the object is a non-const HttpRequest
  // that its client created (CreateHttpRequest) and owns; the signers skip x-amzn-trace-id.
  static void set_trace_header(const HttpRequest& request, const std::string& value) noexcept {
    if (value.empty()) return;
    try {
      const Aws::String name(TraceHeader::kHeaderName.data(), TraceHeader::kHeaderName.size());
      const_cast<HttpRequest&>(request).SetHeaderValue(name,
                                                       Aws::String(value.data(), value.size()));
    } catch (...) {
      // Out of memory: this attempt goes without the header.
    }
  }

  bool wants_response_body(const CallRecord& record, const HttpRequest& request,
                           const Aws::Http::HttpResponse& response) const {
    if (!read_response_body_ || !default_response_stream(request)) return false;
    const int status = static_cast<int>(response.GetResponseCode());
    if (status < 200 || status > 299) return false;
    if (!response.HasHeader(Aws::Http::CONTENT_TYPE_HEADER) ||
        !is_protocol_json(view(response.GetHeader(Aws::Http::CONTENT_TYPE_HEADER)))) {
      return false;
    }
    return !registry_.allow_list()
                .parameter_names(record.identity.service, record.identity.operation,
                                 /*response=*/true)
                .empty();
  }

  mutable CallRegistry registry_;
  const bool read_response_body_;
};

class Factory final : public Aws::Monitoring::MonitoringFactory {
 public:
  explicit Factory(MonitoringOptions options) : options_(std::move(options)) {}

  Aws::UniquePtr<Aws::Monitoring::MonitoringInterface> CreateMonitoringInstance() const override {
    return Aws::MakeUnique<Monitor>(kAllocationTag, options_);
  }

 private:
  const MonitoringOptions options_;
};

}  // namespace

Aws::Monitoring::MonitoringFactoryCreateFunction monitoring_factory(Recorder* recorder) {
  MonitoringOptions options;
  options.recorder = recorder;
  return monitoring_factory(std::move(options));
}

Aws::Monitoring::MonitoringFactoryCreateFunction monitoring_factory(MonitoringOptions options) {
  return [options = std::move(options)]() -> Aws::UniquePtr<Aws::Monitoring::MonitoringFactory> {
    return Aws::MakeUnique<Factory>(kAllocationTag, options);
  };
}

}  // namespace xray::aws_sdk
