// An AWS call's subsegment: beginning it and recording its outcome (spec §10).
#include <string>
#include <utility>
#include <vector>

#include "aws/allow_list_index.hpp"
#include "aws/request_view.hpp"
#include "xray/aws.hpp"

namespace xray::aws {

SubsegmentScope begin_call(Recorder& recorder, const CallIdentity& identity,
                           const Context& parent) {
  const std::string name =
      service_name(identity.service.empty() ? std::string_view("AWS") : identity.service);
  const Context under = parent.empty() ? current_context() : parent;
  SubsegmentScope call = recorder.start_subsegment(name, under);
  call.set_namespace("aws");
  if (call.sampled() && !identity.operation.empty()) call.set_aws("operation", identity.operation);
  return call;
}

void record_call(SubsegmentScope& call, const CallIdentity& identity, const HttpCall& request,
                 const CallOutcome& outcome, const ParameterAllowList& allow_list) noexcept {
  record_request(call, identity, request, allow_list);
  record_outcome(call, identity, outcome, allow_list);
}

void record_request(SubsegmentScope& call, const CallIdentity& identity, const HttpCall& request,
                    const ParameterAllowList& allow_list) noexcept {
  if (!call.sampled() || !allow_list.index_ || identity.operation.empty()) return;
  try {
    const ParameterAllowList::Index::Operation* operation =
        allow_list.index_->find(identity.service, identity.operation);
    if (operation == nullptr || operation->request.parameters.empty()) return;
    ParameterAllowList::Index::take(
        operation->request, detail::request_view(identity, request, operation->request.members),
        [&call](const std::string& key, nlohmann::json value) {
          call.set_aws(key, std::move(value));
        });
  } catch (...) {
    // Out of memory, or a body nlohmann cannot hold: the call is recorded without parameters.
  }
}

void record_outcome(SubsegmentScope& call, const CallIdentity& identity, const CallOutcome& outcome,
                    const ParameterAllowList& allow_list) noexcept {
  if (!call.sampled()) return;
  try {
    if (!identity.operation.empty()) call.set_aws("operation", identity.operation);
    call.set_aws("region", identity.region);
    call.set_aws("retries", outcome.retries);
    const std::string_view amzn_id =
        detail::header_value(outcome.response_headers, "x-amzn-requestid");
    const std::string_view s3_id =
        detail::header_value(outcome.response_headers, "x-amz-request-id");
    if (!amzn_id.empty()) {
      call.set_aws("request_id", amzn_id);
    } else if (!s3_id.empty()) {
      call.set_aws("request_id", s3_id);
    }
    const std::string_view id_2 = detail::header_value(outcome.response_headers, "x-amz-id-2");
    if (!id_2.empty()) call.set_aws("id_2", id_2);

    const bool failed =
        outcome.status >= 400 || !outcome.error_code.empty() || !outcome.error_message.empty();
    const ParameterAllowList::Index::Operation* operation =
        failed || !allow_list.index_ || identity.operation.empty()
            ? nullptr
            : allow_list.index_->find(identity.service, identity.operation);
    if (operation != nullptr && !operation->response.parameters.empty()) {
      ParameterAllowList::Index::take(
          operation->response,
          detail::response_view(identity, outcome, operation->response.members),
          [&call](const std::string& key, nlohmann::json value) {
            call.set_aws(key, std::move(value));
          });
    }

    if (outcome.status > 0) {
      call.set_http_status(outcome.status);  // 4xx error, 429 throttle + error, 5xx fault
      if (outcome.content_length) call.set_http_content_length(*outcome.content_length);
    } else {
      call.set_fault();  // no response: refused, reset, timed out
    }
    if (!failed) return;
    ErrorDetails error{bare_error_code(outcome.error_code), outcome.error_message};
    if (error.code.empty() && outcome.status >= 400) {
      ErrorDetails parsed = parse_error(outcome.response_headers, outcome.response_body);
      error.code = std::move(parsed.code);
      if (error.message.empty()) error.message = std::move(parsed.message);
    }
    if (outcome.throttling || is_throttling_error(error.code)) call.set_throttle();
    if (!error.code.empty() || !error.message.empty()) {
      // The service answered: its error is a remote cause, with no flag of its own (the status
      // set them). An SDK-side error without a response is local.
      const char* unnamed = outcome.status > 0 ? "UnknownError" : "SdkError";
      call.add_exception(error.code.empty() ? std::string(unnamed) : error.code, error.message,
                         /*remote=*/outcome.status > 0);
    }
  } catch (...) {
    // Out of memory while recording: the call itself is what matters.
  }
}

}  // namespace xray::aws
