// xray/aws_sdk.hpp: calls made with the AWS SDK for C++ (aws-sdk-cpp 1.11) as X-Ray `aws`
// subsegments (target AWSXRay::awssdk, built when find_package(AWSSDK COMPONENTS core) succeeds).
//
// Install once, before Aws::InitAPI; then every call of every client is traced:
//
//   Aws::SDKOptions options;
//   options.monitoringOptions.customizedMonitoringFactory_create_fn.push_back(
//       xray::aws_sdk::monitoring_factory());
//   Aws::InitAPI(options);
//
// For `...Async` and `...Callable` calls, which run on the client's executor, wrap the executor
// so that they record under the caller's segment:
//
//   Aws::Client::ClientConfiguration config;
//   config.executor = std::make_shared<xray::aws_sdk::ContextPropagatingExecutor>(config.executor);
//   Aws::DynamoDB::DynamoDBClient client(config);
//
// Each call becomes one subsegment under the caller's current entity, whatever the number of
// attempts, recorded by the SDK-free mapping of xray/aws.hpp: named after the service
// ("DynamoDB", "SQS", "S3", ...), namespace "aws", aws.operation, aws.region (the signing region,
// else the endpoint's), aws.retries, aws.request_id (and aws.id_2 for S3), the allow-listed
// request parameters (from the path, query and headers the SDK sent, and the body of JSON- and
// query-protocol requests; a REST payload such as an S3 object is never read),
// http.response.status and content_length, error/throttle/fault and the service error as a remote
// cause. Response parameters (e.g. DynamoDB's ConsumedCapacity) need the response body: see
// MonitoringOptions::read_response_body. Calls to X-Ray's own API (GetSamplingRules,
// GetSamplingTargets, PutTraceSegments) are not traced.
//
// How it hooks in: an Aws::Monitoring::MonitoringInterface. Its OnRequestStarted begins the call's
// subsegment and sets X-Amzn-Trace-Id (Root, Parent = the call's subsegment, Sampled, and the
// incoming header's extras such as Lineage) on the request of every attempt (also from
// OnRequestRetry, which sees the legacy client's next request). aws-sdk-cpp hands monitors the
// request as `const`; the adapter sets the header through a const_cast on the HttpRequest, an
// object aws-sdk-cpp created non-const (CreateHttpRequest) and still owns. Its SigV4 and SigV4a
// signers never sign x-amzn-trace-id, so the header may change before or after signing. The
// Smithy-based clients (DynamoDB since late 2024, more since) call OnRequestStarted once per
// attempt: attempts with the same `amz-sdk-invocation-id` share one record, so a call never opens
// a second subsegment, and OnFinish frees the record. Other monitors (aws-sdk-cpp's
// DefaultMonitoring, yours) are unaffected.
//
// Errors: the callbacks never throw into aws-sdk-cpp. With no current entity the context-missing
// strategy applies, except that under ContextMissing::kRuntimeError the call goes untraced instead
// of throwing (an exception thrown through the SDK's retry loop, possibly on an executor thread,
// would terminate the process or leave the SDK in an undefined state). A call the SDK abandons
// without OnFinish (its retry strategy refusing a send token) is ended, unrecorded, at
// Aws::ShutdownAPI.
//
// Thread safety: MonitoringOptions is a value type. monitoring_factory() may be called from any
// thread. The monitor it creates is thread-safe: aws-sdk-cpp calls it concurrently for concurrent
// calls, and for one call from whichever thread runs each attempt. ContextPropagatingExecutor is
// as thread-safe as the executor it wraps (Submit may be called concurrently when the inner
// executor allows it, as aws-sdk-cpp's DefaultExecutor and PooledThreadExecutor do).
#pragma once

#include <aws/core/monitoring/MonitoringManager.h>
#include <aws/core/utils/threading/Executor.h>

#include <functional>
#include <memory>

#include "xray/aws.hpp"
#include "xray/context.hpp"
#include "xray/export.hpp"
#include "xray/recorder.hpp"

namespace xray::aws_sdk {

struct MonitoringOptions {
  // Null: xray::Recorder::global(). Must outlive Aws::ShutdownAPI.
  Recorder* recorder = nullptr;
  // The request and response parameters recorded per operation.
  aws::ParameterAllowList allow_list = aws::ParameterAllowList::defaults();
  // Read the response body for the response parameters the allow-list names (e.g. DynamoDB's
  // ConsumedCapacity, SQS's MessageId): only for successful JSON-protocol responses
  // (application/x-amz-json-*) of at most 64 KiB whose operation names response parameters. The SDK
  // has not parsed the body yet when the adapter sees it: the adapter reads it and puts the stream
  // back where it was, which costs a copy of the body and needs a seekable stream; a response
  // stream of your own (SetResponseStreamFactory) is never read. Off by default.
  bool read_response_body = false;
};

// The factory to add to SDKOptions::monitoringOptions.customizedMonitoringFactory_create_fn
// before Aws::InitAPI (or to pass to Aws::Monitoring::AddMonitoring after it, in the releases that
// have it). Each monitor it creates keeps its own records of the calls in flight and lives until
// Aws::ShutdownAPI.
XRAY_EXPORT Aws::Monitoring::MonitoringFactoryCreateFunction monitoring_factory(
    Recorder* recorder = nullptr);
XRAY_EXPORT Aws::Monitoring::MonitoringFactoryCreateFunction monitoring_factory(
    MonitoringOptions options);

// An executor that runs each task with the X-Ray context of the thread that submitted it
// (xray::current_context() captured in SubmitToThread, made current with xray::ContextScope while
// the task runs), on the executor it wraps. aws-sdk-cpp's `...Async` and `...Callable` operations
// submit the whole call to ClientConfiguration::executor from the calling thread, so the call's
// subsegment nests under the caller's segment or subsegment.
class XRAY_EXPORT ContextPropagatingExecutor : public Aws::Utils::Threading::Executor {
 public:
  // Null `inner`: an Aws::Utils::Threading::DefaultExecutor (a detached thread per task, the
  // ClientConfiguration default).
  explicit ContextPropagatingExecutor(std::shared_ptr<Aws::Utils::Threading::Executor> inner);
  ~ContextPropagatingExecutor() override;

#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Winconsistent-missing-override"
#elif defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsuggest-override"
#endif
  // Waits as the inner executor does. Executor::WaitUntilStopped appeared during 1.11 (it is in
  // 1.11.332, not in 1.11.117): declared without `override` so that this compiles against both.
  virtual void WaitUntilStopped();
#if defined(__clang__)
#pragma clang diagnostic pop
#elif defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

  const std::shared_ptr<Aws::Utils::Threading::Executor>& inner() const noexcept { return inner_; }

 protected:
  bool SubmitToThread(std::function<void()>&& task) override;

 private:
  std::shared_ptr<Aws::Utils::Threading::Executor> inner_;
};

}  // namespace xray::aws_sdk
