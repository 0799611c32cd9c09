// bootstrap: a C++ Lambda function (custom runtime, provided.al2023) traced with X-Ray, in the
// style of the X-Ray walkthrough: each invocation's work on the event is a subsegment of its own
// under the function's segment that Lambda records, and a downstream call, when configured, nests
// under it.
//
// Event: {"order_id": 42, "items": ["book", "pen"]}. Answer: {"order_id": 42, "items": 2,
// "status": "accepted"}; an event without an integer order_id fails (errorType "InvalidOrder"),
// which marks the function's subsegment fault.
//
// Environment (all optional; with none set the function makes no network call except to the
// daemon):
//   DOWNSTREAM_URL   GET this URL for each order, traced as a `remote` subsegment (xray::curl)
//   ORDERS_TABLE     PutItem each order into this DynamoDB table (an `aws` subsegment "DynamoDB",
//                    signed with the function's role credentials by libcurl's CURLOPT_AWS_SIGV4)
//   DYNAMODB_ENDPOINT instead of https://dynamodb.$AWS_REGION.amazonaws.com/ (e.g. DynamoDB Local)
// Lambda sets LAMBDA_TASK_ROOT (Lambda mode), AWS_XRAY_DAEMON_ADDRESS, AWS_REGION and the
// credentials; see README.md for running it locally.
#include <aws/lambda-runtime/runtime.h>
#include <curl/curl.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "xray/curl.hpp"
#include "xray/lambda_runtime.hpp"
#include "xray/xray.hpp"

namespace {

using aws::lambda_runtime::invocation_request;
using aws::lambda_runtime::invocation_response;
using json = nlohmann::json;

std::string env(const char* name, const char* fallback = "") {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// GET DOWNSTREAM_URL; a `remote` subsegment named after its host. Returns the HTTP status (0:
// none).
long call_downstream(const std::string& url) {
  CURL* easy = curl_easy_init();
  if (easy == nullptr) return 0;
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 3000L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  std::string body;
  xray::curl::Options options;
  options.response_body = &body;
  long status = 0;
  if (xray::curl::perform(easy, url, options) == CURLE_OK) {
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  }
  curl_easy_cleanup(easy);
  return status;
}

// PutItem into ORDERS_TABLE; an `aws` subsegment (DynamoDB, PutItem, table_name, request_id).
long put_order(const std::string& table, long long order_id, std::size_t items) {
  const std::string region = env("AWS_REGION", "us-east-1");
  const std::string endpoint =
      env("DYNAMODB_ENDPOINT", ("https://dynamodb." + region + ".amazonaws.com/").c_str());
  const std::string credentials = env("AWS_ACCESS_KEY_ID") + ":" + env("AWS_SECRET_ACCESS_KEY");
  const std::string token = env("AWS_SESSION_TOKEN");
  const std::string sigv4 = "aws:amz:" + region + ":dynamodb";
  const std::string request = json{{"TableName", table},
                                   {"Item",
                                    {{"order_id", {{"N", std::to_string(order_id)}}},
                                     {"items", {{"N", std::to_string(items)}}}}}}
                                  .dump();

  CURL* easy = curl_easy_init();
  if (easy == nullptr) return 0;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/x-amz-json-1.0");
  headers = curl_slist_append(headers, "X-Amz-Target: DynamoDB_20120810.PutItem");
  const std::string token_header = "X-Amz-Security-Token: " + token;  // role credentials
  if (!token.empty()) headers = curl_slist_append(headers, token_header.c_str());
  curl_easy_setopt(easy, CURLOPT_USERPWD, credentials.c_str());
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 3000L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  std::string reply;
  xray::curl::Options options;
  options.headers = headers;
  options.aws_sigv4 = sigv4;
  options.body = request;
  options.response_body = &reply;
  long status = 0;
  if (xray::curl::perform(easy, endpoint, options) == CURLE_OK) {
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  return status;
}

invocation_response handle(const invocation_request& request) {
  const json event = json::parse(request.payload, nullptr, false);
  if (!event.is_object() || !event.contains("order_id") || !event["order_id"].is_number_integer()) {
    return invocation_response::failure("the event has no integer order_id", "InvalidOrder");
  }
  const auto order_id = event["order_id"].get<long long>();
  const std::size_t items =
      event.contains("items") && event["items"].is_array() ? event["items"].size() : 0;

  // The handler's own work: a subsegment under the one traced() opened for the invocation.
  auto work = xray::Recorder::global().begin_subsegment("process-order");
  work.put_annotation("order_id", order_id);
  work.put_metadata("items", event.contains("items") ? event["items"] : json::array());
  json answer = {{"order_id", order_id}, {"items", items}, {"status", "accepted"}};

  if (const std::string url = env("DOWNSTREAM_URL"); !url.empty()) {
    answer["downstream_status"] = call_downstream(url);
  }
  if (const std::string table = env("ORDERS_TABLE"); !table.empty()) {
    const long status = put_order(table, order_id, items);
    answer["dynamodb_status"] = status;
    if (status != 200) {
      work.set_error();
      return invocation_response::failure("PutItem answered " + std::to_string(status),
                                          "OrderNotStored");
    }
  }
  return invocation_response::success(answer.dump(), "application/json");
}

}  // namespace

int main() {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  // Lambda mode comes from the environment (LAMBDA_TASK_ROOT), the daemon address from
  // AWS_XRAY_DAEMON_ADDRESS: Recorder::global() needs no configuration here.
  // Each invocation under a subsegment named after the function ($AWS_LAMBDA_FUNCTION_NAME).
  aws::lambda_runtime::run_handler(xray::lambda::traced(handle));
  curl_global_cleanup();
  return 0;
}
