// The records of AWS calls in flight for the aws-sdk-cpp adapter; free of aws-sdk-cpp.
#include "awssdk/call_registry.hpp"

#include <exception>
#include <utility>
#include <vector>

#include "common/http_util.hpp"

namespace xray::aws_sdk::detail {
namespace {

std::string_view header_value(const aws::Headers& headers, std::string_view name) noexcept {
  for (const auto& [key, value] : headers) {
    if (integrations::iequals(key, name)) return value;
  }
  return {};
}

}  // namespace

bool is_xray_own_call(const aws::CallIdentity& identity) noexcept {
  // aws-sdk-cpp's XRayClient calls itself "XRay" (service_name() keeps that name).
  if (!integrations::iequals(identity.service, "XRay")) return false;
  return identity.operation == "GetSamplingRules" || identity.operation == "GetSamplingTargets" ||
         identity.operation == "PutTraceSegments";
}

aws::HttpCall http_call_of(const Attempt& attempt) noexcept {
  aws::HttpCall call;
  call.method = attempt.method;
  call.host = attempt.host;
  call.path = attempt.path;
  call.query = attempt.query;
  call.headers = &attempt.request_headers;
  call.body = attempt.request_body;
  return call;
}

aws::CallOutcome outcome_of(const Attempt& attempt, int retries) {
  aws::CallOutcome outcome;
  outcome.status = attempt.status > 0 ? attempt.status : 0;
  outcome.response_headers = attempt.response_headers;
  outcome.response_body = attempt.response_body;
  if (outcome.status > 0) {
    outcome.content_length = integrations::parse_content_length(
        header_value(attempt.response_headers, "content-length"));
  }
  outcome.retries = retries;
  outcome.error_code = attempt.error_code;
  outcome.error_message = attempt.error_message;
  outcome.throttling = attempt.throttling;
  return outcome;
}

CallRegistry::CallRegistry(Recorder* recorder, aws::ParameterAllowList allow_list)
    : recorder_(recorder), allow_list_(std::move(allow_list)) {}

CallRegistry::~CallRegistry() = default;  // each record's scope ends its subsegment

Recorder& CallRegistry::recorder() const noexcept {
  return recorder_ != nullptr ? *recorder_ : Recorder::global();
}

CallRecord* CallRegistry::start(const aws::CallIdentity& identity, std::string_view invocation_id) {
  if (is_xray_own_call(identity)) return nullptr;
  try {
    if (!invocation_id.empty()) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto live = by_invocation_id_.find(std::string(invocation_id));
      if (live != by_invocation_id_.end()) return live->second;
    }
    // Begun outside the lock: beginning a subsegment takes the recorder's own locks and may log
    // (context missing), which must not wait behind every other call's bookkeeping.
    auto record = std::make_unique<CallRecord>();
    record->identity = identity;
    record->invocation_id = std::string(invocation_id);
    record->call = aws::begin_call(recorder(), identity);
    record->trace_header = record->call.outbound_header().to_string();

    std::lock_guard<std::mutex> lock(mutex_);
    if (!record->invocation_id.empty()) {
      // The SDK runs a call's attempts one after another, so no other thread can have started
      // this invocation meanwhile; should one have, its record wins and ours ends unrecorded.
      auto [slot, inserted] = by_invocation_id_.try_emplace(record->invocation_id, record.get());
      if (!inserted) return slot->second;
    }
    CallRecord* raw = record.get();
    try {
      calls_.emplace(raw, Entry{std::move(record), 0});
    } catch (...) {
      if (!raw->invocation_id.empty()) by_invocation_id_.erase(raw->invocation_id);
      throw;
    }
    return raw;
  } catch (const ContextMissingError&) {
    throw;
  } catch (...) {
    return nullptr;  // out of memory: the call goes untraced
  }
}

void CallRegistry::retry(CallRecord* record) noexcept {
  if (record == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = calls_.find(record);
  if (found != calls_.end()) ++found->second.retries;
}

void CallRegistry::finish(CallRecord* record) noexcept {
  if (record == nullptr) return;
  Entry entry;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = calls_.find(record);
    if (found == calls_.end()) return;
    entry = std::move(found->second);
    calls_.erase(found);
    if (!record->invocation_id.empty()) {
      auto id = by_invocation_id_.find(record->invocation_id);
      if (id != by_invocation_id_.end() && id->second == record) by_invocation_id_.erase(id);
    }
  }
  // Recorded outside the lock: parsing parameters is the slow part.
  CallRecord& call = *entry.record;
  if (call.call.sampled()) {
    try {
      aws::CallIdentity identity = call.identity;
      const aws::HttpCall request = http_call_of(call.last);
      if (!call.last.signing_region.empty()) {
        identity.region = call.last.signing_region;
      } else if (identity.region.empty()) {
        // Anonymous requests are not signed: the endpoint's host names the region.
        if (auto recognised = aws::identify(request)) identity.region = recognised->region;
      }
      aws::record_call(call.call, identity, request, outcome_of(call.last, entry.retries),
                       allow_list_);
    } catch (...) {
      // Out of memory while recording: the subsegment still ends.
    }
  }
  call.call.end();
}

std::size_t CallRegistry::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return calls_.size();
}

}  // namespace xray::aws_sdk::detail
