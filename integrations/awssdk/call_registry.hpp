// Internal to the aws-sdk-cpp adapter (xray/aws_sdk.hpp): the record of each AWS call in flight,
// kept free of aws-sdk-cpp so that it is unit-tested (tests/integrations/awssdk_call_registry_test)
// where aws-sdk-cpp is not installed. The adapter copies what the SDK's monitoring callbacks show
// into plain values; the registry keeps one record per call and hands it to the SDK-free mapping
// (xray/aws.hpp) when the call finishes.
//
//   CallRegistry registry(&recorder);
//   CallRecord* call = registry.start({"DynamoDB", "GetItem", ""}, invocation_id);  // each attempt
//   request.set_header("X-Amzn-Trace-Id", call->trace_header);
//   ... call->last = <what the attempt sent and received> ...
//   registry.retry(call);            // before each further attempt
//   registry.finish(call);           // records, ends the subsegment, frees the record
//
// Why the invocation id: aws-sdk-cpp's Smithy clients (DynamoDB since 2024-09, more to follow)
// call OnRequestStarted once per attempt, each time with the same `amz-sdk-invocation-id` header,
// but OnFinish only once; the legacy AWSClient calls OnRequestStarted once per call, before that
// header is set. So a start with the id of a live call re-enters that call's record, and a start
// without an id is always a new call.
//
// Thread safety: CallRegistry is thread-safe (one mutex guards the records and their retry counts;
// calls from many threads may start and finish concurrently). A CallRecord's other members belong
// to its call: the SDK runs one call's callbacks one after another (possibly on different
// threads, ordered by its executor), and only those callbacks may touch them.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "xray/aws.hpp"
#include "xray/errors.hpp"
#include "xray/recorder.hpp"
#include "xray/subsegment_scope.hpp"

namespace xray::aws_sdk::detail {

// Request bodies beyond this are not copied (the mapping parses no larger body for parameters).
inline constexpr std::size_t kMaxRequestBodyBytes = 1 << 20;
// Response bodies are copied only up to this size, and only when asked (MonitoringOptions).
inline constexpr std::size_t kMaxResponseBodyBytes = 64 * 1024;

// What one attempt sent and received, copied out of aws-sdk-cpp's types. A call records its last
// attempt.
struct Attempt {
  std::string method;            // "POST"
  std::string host;              // the URI's authority
  std::string path;              // URL-encoded, as sent
  std::string query;             // as sent, without '?'
  aws::Headers request_headers;  // lower-case names; no Authorization or security token
  std::string request_body;      // a JSON or form body, when it was read
  std::string signing_region;    // empty for anonymous (unsigned) requests

  int status = 0;                 // 0: no response (aws-sdk-cpp's REQUEST_NOT_MADE)
  aws::Headers response_headers;  // lower-case names
  std::string response_body;      // only when read (opt-in, small JSON replies)
  std::string error_code;         // AWSError::GetExceptionName(); empty on success
  std::string error_message;      // AWSError::GetMessage()
  bool throttling = false;        // AWSError::ShouldThrottle()
};

// One AWS call: its subsegment, begun at the first OnRequestStarted and ended at OnFinish.
struct CallRecord {
  aws::CallIdentity identity;
  SubsegmentScope call;       // inert when nothing is traced (no parent, disabled recorder)
  std::string trace_header;   // X-Amzn-Trace-Id for every attempt; empty: send none
  std::string invocation_id;  // empty on the legacy path
  Attempt last;               // the latest attempt's facts
};

// X-Ray's own API calls (the sampling poller's GetSamplingRules and GetSamplingTargets, a
// PutTraceSegments exporter) are not traced, as in the official SDKs: tracing them would trace the
// tracer.
bool is_xray_own_call(const aws::CallIdentity& identity) noexcept;

// The records of the calls in flight.
class CallRegistry {
 public:
  // `recorder`: null means xray::Recorder::global() at each call. `allow_list`: the parameters
  // recorded per operation.
  explicit CallRegistry(Recorder* recorder = nullptr,
                        aws::ParameterAllowList allow_list = aws::ParameterAllowList::defaults());
  // Ends the subsegments of calls that never finished (aws-sdk-cpp skips OnFinish when its retry
  // strategy refuses a send token), recording nothing more on them.
  ~CallRegistry();
  CallRegistry(const CallRegistry&) = delete;
  CallRegistry& operator=(const CallRegistry&) = delete;

  // An attempt of a call begins. With the invocation id of a call in flight, returns that call's
  // record (a Smithy client's next attempt). Otherwise begins the call's subsegment with
  // xray::aws::begin_call under this thread's current entity and returns a new record; with no
  // current entity the context-missing strategy applies (the record's scope is then inert, or
  // ContextMissingError propagates under kRuntimeError). Null for X-Ray's own calls and when
  // out of memory. The record stays valid until finish(record) or the registry's destruction.
  CallRecord* start(const aws::CallIdentity& identity, std::string_view invocation_id);

  // One more attempt follows (counted into aws.retries). Null is ignored.
  void retry(CallRecord* record) noexcept;

  // The call is over: records its last attempt (xray::aws::record_call), ends the subsegment and
  // frees the record. Null, or a record this registry does not hold, is ignored.
  void finish(CallRecord* record) noexcept;

  // Calls in flight.
  std::size_t size() const;

  const aws::ParameterAllowList& allow_list() const noexcept { return allow_list_; }

 private:
  struct Entry {
    std::unique_ptr<CallRecord> record;
    int retries = 0;
  };

  Recorder& recorder() const noexcept;

  Recorder* const recorder_;
  const aws::ParameterAllowList allow_list_;
  mutable std::mutex mutex_;
  std::unordered_map<const CallRecord*, Entry> calls_;             // guarded by mutex_
  std::unordered_map<std::string, CallRecord*> by_invocation_id_;  // guarded by mutex_
};

// The facts of `attempt` as the mapping takes them: the request (views into `attempt`, which must
// outlive the result) and the outcome, with `retries`. Exposed for tests.
aws::HttpCall http_call_of(const Attempt& attempt) noexcept;
aws::CallOutcome outcome_of(const Attempt& attempt, int retries);

}  // namespace xray::aws_sdk::detail
