// dynamodb_demo: step 6 of the X-Ray walkthrough in C++: a service calls DynamoDB, and every call
// becomes a DynamoDB subsegment (operation, table, request id; the missing table an error with its
// remote cause). Requests are built as DynamoDB's JSON protocol wants them and signed with SigV4
// by libcurl (CURLOPT_AWS_SIGV4); xray::curl::perform recognises them as AWS calls.
//
//   dynamodb_demo --endpoint URL --table NAME [--region R]
//
// Creates the table if absent, puts an item, reads it back, then reads from `no_such_table`, all
// inside one segment named `dynamodb-demo`; prints what it did, flushes and exits 0 (1 when a
// call that should succeed fails). Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (any
// values work against dynalite). Daemon: AWS_XRAY_DAEMON_ADDRESS (default 127.0.0.1:2000).
#include <curl/curl.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "xray/curl.hpp"
#include "xray/xray.hpp"

namespace {

struct Arguments {
  std::string endpoint;
  std::string table;
  std::string region = "us-east-1";
};

bool parse(int argc, char** argv, Arguments& args) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--endpoint") {
      args.endpoint = argv[i + 1];
    } else if (flag == "--table") {
      args.table = argv[i + 1];
    } else if (flag == "--region") {
      args.region = argv[i + 1];
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && !args.endpoint.empty() && !args.table.empty();
}

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// One DynamoDB API call; returns the HTTP status (0: no response) and the response body.
class DynamoDb {
 public:
  DynamoDb(std::string endpoint, const std::string& region)
      : endpoint_(std::move(endpoint)), sigv4_("aws:amz:" + region + ":dynamodb") {
    easy_ = curl_easy_init();
    credentials_ = env_or("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE") + ":" +
                   env_or("AWS_SECRET_ACCESS_KEY", "example-secret");
  }
  ~DynamoDb() { curl_easy_cleanup(easy_); }
  DynamoDb(const DynamoDb&) = delete;
  DynamoDb& operator=(const DynamoDb&) = delete;

  long call(const std::string& operation, const std::string& body, std::string& reply) {
    reply.clear();
    const std::string target = "X-Amz-Target: DynamoDB_20120810." + operation;
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/x-amz-json-1.0");
    headers = curl_slist_append(headers, target.c_str());
    curl_easy_setopt(easy_, CURLOPT_USERPWD, credentials_.c_str());
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    xray::curl::Options options;
    options.headers = headers;
    options.aws_sigv4 = sigv4_;
    options.body = body;
    options.response_body = &reply;
    const CURLcode code = xray::curl::perform(easy_, endpoint_, options);
    curl_slist_free_all(headers);
    long status = 0;
    if (code == CURLE_OK) curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    std::cout << "  " << operation << " -> "
              << (code == CURLE_OK ? "HTTP " + std::to_string(status) : curl_easy_strerror(code))
              << (status >= 400 ? "  " + reply : "") << "\n";
    return status;
  }

 private:
  CURL* easy_ = nullptr;
  std::string endpoint_;
  std::string sigv4_;
  std::string credentials_;
};

}  // namespace

int main(int argc, char** argv) {
  Arguments args;
  if (!parse(argc, argv, args)) {
    std::cerr << "usage: dynamodb_demo --endpoint URL --table NAME [--region R]\n";
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  xray::Config config;
  config.service_name = "dynamodb-demo";
  config.sampling = false;  // trace every run
  for (const std::string& error : xray::Recorder::global().configure(config).errors) {
    std::cerr << "configure: " << error << "\n";
  }

  bool ok = true;
  {
    auto segment = xray::Recorder::global().begin_segment("dynamodb-demo");
    std::cout << "trace " << segment.trace_id() << ", DynamoDB at " << args.endpoint << "\n";
    DynamoDb dynamodb(args.endpoint, args.region);
    std::string reply;
    const std::string table = "\"" + args.table + "\"";
    if (dynamodb.call("DescribeTable", "{\"TableName\":" + table + "}", reply) != 200) {
      ok &= dynamodb.call(
                "CreateTable",
                "{\"TableName\":" + table +
                    ",\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}],"
                    "\"AttributeDefinitions\":[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"}],"
                    "\"BillingMode\":\"PAY_PER_REQUEST\"}",
                reply) == 200;
      // A new table accepts items once ACTIVE (seconds on AWS, a moment on dynalite).
      for (int attempt = 0;
           ok && attempt < 60 && reply.find("\"TableStatus\":\"ACTIVE\"") == std::string::npos;
           ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(attempt == 0 ? 50 : 500));
        dynamodb.call("DescribeTable", "{\"TableName\":" + table + "}", reply);
      }
    }
    ok &= dynamodb.call("PutItem",
                        "{\"TableName\":" + table +
                            ",\"Item\":{\"id\":{\"S\":\"42\"},\"name\":{\"S\":\"Ada Lovelace\"}},"
                            "\"ReturnConsumedCapacity\":\"TOTAL\"}",
                        reply) == 200;
    ok &= dynamodb.call("GetItem", "{\"TableName\":" + table + ",\"Key\":{\"id\":{\"S\":\"42\"}}}",
                        reply) == 200;
    std::cout << "  item: " << reply << "\n";
    // Expected to fail: recorded as an error (not a fault) with ResourceNotFoundException as its
    // cause.
    dynamodb.call("GetItem", R"({"TableName":"no_such_table","Key":{"id":{"S":"42"}}})", reply);
  }
  const bool flushed = xray::Recorder::global().flush(std::chrono::seconds(5));
  std::cout << (flushed ? "flushed" : "flush timed out") << "\n";
  curl_global_cleanup();
  return ok ? 0 : 1;
}
