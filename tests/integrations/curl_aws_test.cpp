// AWS calls through libcurl (xray/curl.hpp + xray/aws.hpp): against dynalite, a real DynamoDB
// emulator (npm), with requests signed by libcurl's CURLOPT_AWS_SIGV4; and against a fake HTTP
// server answering with DynamoDB-style errors (throttling, 5xx, a reset connection).
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "support/dynalite.hpp"
#include "support/fake_daemon.hpp"
#include "support/fake_http_server.hpp"
#include "support/test_recorder.hpp"
#include "xray/curl.hpp"

namespace {

using nlohmann::json;
using namespace xray::testing;
constexpr auto kWait = std::chrono::seconds(5);

class CurlAwsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(configure(recorder_, config_for(daemon_, "dynamodb-client")).ok());
    easy_ = curl_easy_init();
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, 5000L);
    const std::string credentials = std::string(Dynalite::kAccessKey) + ":" + Dynalite::kSecretKey;
    curl_easy_setopt(easy_, CURLOPT_USERPWD, credentials.c_str());
  }
  void TearDown() override {
    curl_easy_cleanup(easy_);
    EXPECT_THAT(daemon_.errors(), ::testing::IsEmpty());
  }

  // One DynamoDB call, signed with SigV4, recorded under the current segment.
  long call(const std::string& endpoint, const std::string& operation, const std::string& body,
            std::string* reply = nullptr) {
    std::string target = "X-Amz-Target: DynamoDB_20120810." + operation;
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/x-amz-json-1.0");
    headers = curl_slist_append(headers, target.c_str());
    std::string response;
    xray::curl::Options options;
    options.recorder = &recorder_;
    options.headers = headers;
    options.aws_sigv4 = "aws:amz:us-east-1:dynamodb";
    options.body = body;
    options.response_body = reply != nullptr ? reply : &response;
    xray::curl::perform(easy_, endpoint, options);
    curl_slist_free_all(headers);
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    return status;
  }

  // The subsegments of the one segment the daemon got, in the order they began.
  json subsegments() {
    EXPECT_TRUE(recorder_.flush(kWait));
    EXPECT_TRUE(daemon_.wait_for_documents(1, kWait));
    auto documents = daemon_.documents();
    EXPECT_EQ(documents.size(), 1u);
    return documents.empty() ? json::array() : documents[0]["subsegments"];
  }

  FakeDaemon daemon_;
  xray::Recorder recorder_;
  CURL* easy_ = nullptr;
};

TEST_F(CurlAwsTest, DynamoDbCallsAgainstDynalite) {
  XRAY_REQUIRE_DYNALITE();
  Dynalite dynamodb;
  ASSERT_NE(dynamodb.port(), 0) << "dynalite did not start";
  const std::string endpoint = dynamodb.endpoint();
  {
    auto segment = recorder_.begin_segment("dynamodb-client");
    EXPECT_EQ(call(endpoint, "CreateTable",
                   R"({"TableName":"users","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],)"
                   R"("AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],)"
                   R"("ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}})"),
              200);
    EXPECT_EQ(call(endpoint, "PutItem",
                   R"({"TableName":"users","Item":{"id":{"S":"42"},"name":{"S":"Ada"}},)"
                   R"("ReturnConsumedCapacity":"TOTAL"})"),
              200);
    std::string item;
    EXPECT_EQ(call(endpoint, "GetItem",
                   R"({"TableName":"users","Key":{"id":{"S":"42"}},"ConsistentRead":true})", &item),
              200);
    EXPECT_THAT(item, ::testing::HasSubstr("Ada"));  // the caller still gets the body
    EXPECT_EQ(call(endpoint, "Query",
                   R"({"TableName":"users","KeyConditionExpression":"id = :id",)"
                   R"("ExpressionAttributeValues":{":id":{"S":"42"}},"Limit":10})"),
              200);
    EXPECT_EQ(call(endpoint, "BatchGetItem",
                   R"({"RequestItems":{"users":{"Keys":[{"id":{"S":"42"}}]}}})"),
              200);
    EXPECT_EQ(call(endpoint, "GetItem", R"({"TableName":"no_such_table","Key":{"id":{"S":"1"}}})"),
              400);
  }
  json calls = subsegments();
  ASSERT_EQ(calls.size(), 6u);
  const char* operations[] = {"CreateTable", "PutItem",      "GetItem",
                              "Query",       "BatchGetItem", "GetItem"};
  for (std::size_t i = 0; i < 6; ++i) {
    const json& sub = calls[i];
    SCOPED_TRACE(sub.dump());
    EXPECT_EQ(sub["name"], "DynamoDB");
    EXPECT_EQ(sub["namespace"], "aws");
    EXPECT_EQ(sub["aws"]["operation"], operations[i]);
    EXPECT_EQ(sub["aws"]["region"], "us-east-1");
    EXPECT_EQ(sub["aws"]["retries"], 0);
    EXPECT_EQ(sub["aws"]["request_id"].get<std::string>().size(), 52u);  // dynalite's request ids
    EXPECT_FALSE(sub["http"].contains("request"));
    // Every request reached dynalite with its own trace header, and the signature still holds.
    auto seen = dynamodb.wait_for_request(std::string("DynamoDB_20120810.") + operations[i]);
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->sigv4, "ok");
    EXPECT_THAT(seen->trace, ::testing::HasSubstr("Parent=" + sub["id"].get<std::string>()));
    EXPECT_THAT(seen->trace, ::testing::HasSubstr(";Sampled=1"));
  }
  EXPECT_EQ(calls[0]["aws"]["table_name"], "users");
  EXPECT_EQ(calls[0]["aws"]["provisioned_throughput"]["ReadCapacityUnits"], 5);
  EXPECT_EQ(calls[1]["aws"]["table_name"], "users");
  EXPECT_EQ(calls[1]["aws"]["consumed_capacity"]["TableName"], "users");
  EXPECT_EQ(calls[2]["aws"]["consistent_read"], true);
  EXPECT_EQ(calls[3]["aws"]["limit"], 10);
  EXPECT_EQ(calls[4]["aws"]["table_names"], json({"users"}));
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(calls[i]["http"]["response"]["status"], 200);
    EXPECT_FALSE(calls[i].contains("error"));
    EXPECT_FALSE(calls[i].contains("fault"));
  }
  const json& missing = calls[5];
  EXPECT_EQ(missing["aws"]["table_name"], "no_such_table");
  EXPECT_EQ(missing["http"]["response"]["status"], 400);
  EXPECT_EQ(missing["error"], true);
  EXPECT_FALSE(missing.contains("fault"));
  EXPECT_FALSE(missing.contains("throttle"));
  ASSERT_EQ(missing["cause"]["exceptions"].size(), 1u);
  EXPECT_EQ(missing["cause"]["exceptions"][0]["type"], "ResourceNotFoundException");
  EXPECT_EQ(missing["cause"]["exceptions"][0]["message"], "Requested resource not found");
  EXPECT_EQ(missing["cause"]["exceptions"][0]["remote"], true);
}

// DynamoDB-style error answers from a fake server: the flags each must set.
struct ErrorCase {
  const char* name;
  int status;
  const char* body;
  bool error;
  bool throttle;
  bool fault;
  const char* cause_type;  // nullptr: no cause
};

class CurlAwsErrorTest : public CurlAwsTest, public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(CurlAwsErrorTest, FlagsAndCause) {
  const ErrorCase& c = GetParam();
  FakeHttpServer server([&](const RecordedRequest&) {
    return HttpReply(
        c.status, {{"Content-Type", "application/x-amz-json-1.0"}, {"x-amzn-RequestId", "FAKE1"}},
        c.body);
  });
  {
    auto segment = recorder_.begin_segment("dynamodb-client");
    EXPECT_EQ(call(server.base_url() + "/", "GetItem", R"({"TableName":"t"})"), c.status);
  }
  json sub = subsegments()[0];
  SCOPED_TRACE(sub.dump());
  EXPECT_EQ(sub["name"], "DynamoDB");
  EXPECT_EQ(sub["aws"]["request_id"], "FAKE1");
  EXPECT_EQ(sub["http"]["response"]["status"], c.status);
  EXPECT_EQ(sub.value("error", false), c.error);
  EXPECT_EQ(sub.value("throttle", false), c.throttle);
  EXPECT_EQ(sub.value("fault", false), c.fault);
  if (c.cause_type == nullptr) {
    EXPECT_FALSE(sub.contains("cause"));
  } else {
    EXPECT_EQ(sub["cause"]["exceptions"][0]["type"], c.cause_type);
    EXPECT_EQ(sub["cause"]["exceptions"][0]["remote"], true);
  }
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_THAT(server.requests()[0].header("X-Amzn-Trace-Id"),
              ::testing::HasSubstr("Parent=" + sub["id"].get<std::string>()));
}

INSTANTIATE_TEST_SUITE_P(
    DynamoDbErrors, CurlAwsErrorTest,
    ::testing::Values(
        ErrorCase{
            "ProvisionedThroughputExceeded", 400,
            R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",)"
            R"("message":"The level of configured provisioned throughput for the table was exceeded."})",
            true, true, false, "ProvisionedThroughputExceededException"},
        ErrorCase{
            "ThrottlingException", 400,
            R"({"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate exceeded"})",
            true, true, false, "ThrottlingException"},
        ErrorCase{"TooManyRequests", 429, R"({"message":"Too Many Requests"})", true, true, false,
                  "UnknownError"},
        ErrorCase{
            "InternalServerError", 500,
            R"({"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal error"})",
            false, false, true, "InternalServerError"},
        ErrorCase{"ServiceUnavailableUnreadable", 503, "<html>Service Unavailable</html>", false,
                  false, true, nullptr}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return std::string(info.param.name); });

TEST_F(CurlAwsTest, ConnectionResetIsAFaultWithTheTransferError) {
  FakeHttpServer server([](const RecordedRequest&) { return HttpReply::close_at_once(); });
  {
    auto segment = recorder_.begin_segment("dynamodb-client");
    call(server.base_url() + "/", "GetItem", R"({"TableName":"t"})");
  }
  json sub = subsegments()[0];
  EXPECT_EQ(sub["name"], "DynamoDB");
  EXPECT_EQ(sub["fault"], true);
  EXPECT_FALSE(sub["http"].contains("response"));
  EXPECT_EQ(sub["cause"]["exceptions"][0]["type"], "xray::curl::TransferError");
  EXPECT_EQ(sub["aws"]["table_name"], "t");
}

TEST_F(CurlAwsTest, ExplicitIdentityForAnUnrecognisableEndpoint) {
  FakeHttpServer server(
      [](const RecordedRequest&) { return HttpReply(200, {}, R"({"MessageId":"m-1"})"); });
  {
    auto segment = recorder_.begin_segment("dynamodb-client");
    std::string reply;
    xray::curl::Options options;
    options.recorder = &recorder_;
    options.aws = xray::aws::CallIdentity{"SQS", "SendMessage", "eu-west-1"};
    options.body = R"({"QueueUrl":"http://127.0.0.1/q","MessageBody":"hi"})";
    options.response_body = &reply;
    xray::curl::perform(easy_, server.base_url() + "/", options);
  }
  json sub = subsegments()[0];
  EXPECT_EQ(sub["name"], "SQS");
  EXPECT_EQ(sub["aws"], json({{"operation", "SendMessage"},
                              {"region", "eu-west-1"},
                              {"retries", 0},
                              {"queue_url", "http://127.0.0.1/q"},
                              {"message_id", "m-1"}}));
}

TEST_F(CurlAwsTest, QueryParametersReachTheMapping) {
  // The URL's query names the operation (query protocols) and carries REST-bound parameters.
  FakeHttpServer server([](const RecordedRequest&) { return HttpReply(200, {}, "{}"); });
  {
    auto segment = recorder_.begin_segment("dynamodb-client");
    std::string reply;
    xray::curl::Options options;
    options.recorder = &recorder_;
    options.response_body = &reply;
    options.aws_sigv4 = "aws:amz:us-east-1:sts";
    xray::curl::perform(easy_, server.base_url() + "/?Action=GetCallerIdentity&Version=2011-06-15",
                        options);
    options.aws_sigv4 = "aws:amz:us-east-1:lambda";
    options.body = "{}";
    xray::curl::perform(
        easy_, server.base_url() + "/2015-03-31/functions/my-fn/invocations?Qualifier=live",
        options);
  }
  json calls = subsegments();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]["name"], "STS");
  EXPECT_EQ(calls[0]["aws"]["operation"], "GetCallerIdentity");
  EXPECT_EQ(calls[1]["name"], "Lambda");
  EXPECT_EQ(calls[1]["aws"]["operation"], "Invoke");
  EXPECT_EQ(calls[1]["aws"]["function_name"], "my-fn");
  EXPECT_EQ(calls[1]["aws"]["qualifier"], "live");
}

TEST_F(CurlAwsTest, PlainHttpCallsStayRemote) {
  FakeHttpServer server([](const RecordedRequest&) { return HttpReply(200, {}, "ok"); });
  {
    auto segment = recorder_.begin_segment("dynamodb-client");
    std::string reply;
    xray::curl::Options options;
    options.recorder = &recorder_;
    options.response_body = &reply;
    xray::curl::perform(easy_, server.base_url() + "/items", options);
    EXPECT_EQ(reply, "ok");
  }
  json sub = subsegments()[0];
  EXPECT_EQ(sub["namespace"], "remote");
  EXPECT_EQ(sub["name"], "127.0.0.1");
  EXPECT_FALSE(sub.contains("aws"));
}

}  // namespace
