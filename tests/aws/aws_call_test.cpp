// An AWS call's subsegment as the daemon receives it (xray::aws::begin_call, record_call).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/recorder_fixture.hpp"
#include "xray/aws.hpp"

namespace xray::aws {
namespace {

using json = nlohmann::json;

class AwsCallTest : public testing::RecorderFixture {
 protected:
  // Runs one call under a segment and returns its subsegment document.
  json record(const CallIdentity& identity, const HttpCall& request, const CallOutcome& outcome,
              const ParameterAllowList& list = ParameterAllowList::defaults()) {
    {
      auto segment = recorder_.begin_segment("service");
      SubsegmentScope call = begin_call(recorder_, identity);
      record_call(call, identity, request, outcome, list);
    }
    json document = only_document();
    return document["subsegments"].size() == 1 ? document["subsegments"][0] : json();
  }
};

TEST_F(AwsCallTest, SuccessfulPutItem) {
  HttpCall request;
  request.body =
      R"({"TableName":"users","Item":{"id":{"S":"1"}},"ReturnConsumedCapacity":"TOTAL"})";
  CallOutcome outcome;
  outcome.status = 200;
  outcome.content_length = 58;
  outcome.response_headers = {{"x-amzn-RequestId", "REQ123"}, {"x-amz-crc32", "1"}};
  outcome.response_body = R"({"ConsumedCapacity":{"TableName":"users","CapacityUnits":1.0}})";
  json sub = record({"DynamoDB", "PutItem", "us-east-1"}, request, outcome);
  EXPECT_EQ(sub["name"], "DynamoDB");
  EXPECT_EQ(sub["namespace"], "aws");
  EXPECT_EQ(sub["aws"],
            json({{"operation", "PutItem"},
                  {"region", "us-east-1"},
                  {"request_id", "REQ123"},
                  {"retries", 0},
                  {"table_name", "users"},
                  {"consumed_capacity", {{"TableName", "users"}, {"CapacityUnits", 1.0}}}}));
  EXPECT_EQ(sub["http"]["response"], json({{"status", 200}, {"content_length", 58}}));
  EXPECT_FALSE(sub.contains("error"));
  EXPECT_FALSE(sub.contains("fault"));
  EXPECT_FALSE(sub.contains("cause"));
}

TEST_F(AwsCallTest, MissingTableIsAnErrorWithARemoteCause) {
  HttpCall request;
  request.body = R"({"TableName":"no_such_table","Key":{"id":{"S":"1"}}})";
  CallOutcome outcome;
  outcome.status = 400;
  outcome.response_headers = {{"x-amzn-requestid", "REQ404"}};
  outcome.response_body =
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",)"
      R"("message":"Requested resource not found"})";
  json sub = record({"DynamoDB", "GetItem", "us-east-1"}, request, outcome);
  EXPECT_EQ(sub["aws"]["table_name"], "no_such_table");
  EXPECT_EQ(sub["aws"]["request_id"], "REQ404");
  EXPECT_EQ(sub["error"], true);
  EXPECT_FALSE(sub.contains("fault"));
  EXPECT_FALSE(sub.contains("throttle"));
  ASSERT_EQ(sub["cause"]["exceptions"].size(), 1u);
  const json& exception = sub["cause"]["exceptions"][0];
  EXPECT_EQ(exception["type"], "ResourceNotFoundException");
  EXPECT_EQ(exception["message"], "Requested resource not found");
  EXPECT_EQ(exception["remote"], true);
}

TEST_F(AwsCallTest, ThrottlingCodeOn400IsThrottleAndError) {
  CallOutcome outcome;
  outcome.status = 400;
  outcome.retries = 3;
  outcome.response_body =
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",)"
      R"("message":"Rate of requests exceeds the allowed throughput."})";
  json sub = record({"DynamoDB", "Query", "us-east-1"}, HttpCall{}, outcome);
  EXPECT_EQ(sub["throttle"], true);
  EXPECT_EQ(sub["error"], true);
  EXPECT_FALSE(sub.contains("fault"));
  EXPECT_EQ(sub["aws"]["retries"], 3);
  EXPECT_EQ(sub["cause"]["exceptions"][0]["type"], "ProvisionedThroughputExceededException");
}

TEST_F(AwsCallTest, ServerErrorWithUnreadableBodyIsAFaultWithoutCause) {
  CallOutcome outcome;
  outcome.status = 500;
  outcome.response_body = "<html>Internal Server Error</html>";
  json sub = record({"DynamoDB", "GetItem", "us-east-1"}, HttpCall{}, outcome);
  EXPECT_EQ(sub["fault"], true);
  EXPECT_EQ(sub["http"]["response"]["status"], 500);
  EXPECT_FALSE(sub.contains("cause"));
}

TEST_F(AwsCallTest, SdkReportedErrorWithoutResponseIsALocalFault) {
  CallOutcome outcome;
  outcome.error_code = "NetworkingError";
  outcome.error_message = "connection reset";
  json sub = record({"DynamoDB", "GetItem", "us-east-1"}, HttpCall{}, outcome);
  EXPECT_EQ(sub["fault"], true);
  EXPECT_EQ(sub["cause"]["exceptions"][0]["type"], "NetworkingError");
  EXPECT_FALSE(sub["cause"]["exceptions"][0].contains("remote"));
}

TEST_F(AwsCallTest, SdkErrorsAreMadeBareAndMessagesWithoutCodeKept) {
  CallOutcome outcome;
  outcome.status = 400;
  outcome.error_code = "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException";
  outcome.error_message = "The conditional request failed";
  json sub = record({"DynamoDB", "PutItem", "us-east-1"}, HttpCall{}, outcome);
  EXPECT_EQ(sub["cause"]["exceptions"][0]["type"], "ConditionalCheckFailedException");
  daemon_.clear();

  CallOutcome no_response;  // what an AWS SDK reports for a transport failure
  no_response.error_message = "curlCode: 7, Couldn't connect to server";
  sub = record({"DynamoDB", "GetItem", "us-east-1"}, HttpCall{}, no_response);
  EXPECT_EQ(sub["fault"], true);
  EXPECT_EQ(sub["cause"]["exceptions"][0]["type"], "SdkError");
  EXPECT_EQ(sub["cause"]["exceptions"][0]["message"], "curlCode: 7, Couldn't connect to server");
}

TEST_F(AwsCallTest, SdkThrottlingFlagAndS3Ids) {
  CallOutcome outcome;
  outcome.status = 503;
  outcome.throttling = true;
  outcome.error_code = "SlowDown";
  outcome.error_message = "Please reduce your request rate.";
  outcome.response_headers = {{"x-amz-request-id", "S3REQ"}, {"x-amz-id-2", "HOSTID"}};
  HttpCall request;
  request.host = "bucket.s3.us-west-2.amazonaws.com";
  request.path = "/photos/a.jpg";
  json sub = record({"S3", "PutObject", "us-west-2"}, request, outcome);
  EXPECT_EQ(sub["aws"]["request_id"], "S3REQ");
  EXPECT_EQ(sub["aws"]["id_2"], "HOSTID");
  EXPECT_EQ(sub["aws"]["bucket_name"], "bucket");
  EXPECT_EQ(sub["aws"]["key"], "photos/a.jpg");
  EXPECT_EQ(sub["throttle"], true);
  EXPECT_EQ(sub["fault"], true);
  EXPECT_EQ(sub["cause"]["exceptions"][0]["remote"], true);
}

TEST_F(AwsCallTest, LambdaRestBindings) {
  Headers headers{{"X-Amz-Invocation-Type", "RequestResponse"}};
  HttpCall request;
  request.host = "lambda.us-east-1.amazonaws.com";
  request.path = "/2015-03-31/functions/my-function/invocations";
  request.query = "Qualifier=live";
  request.headers = &headers;
  CallOutcome outcome;
  outcome.status = 200;
  outcome.response_headers = {{"X-Amz-Function-Error", "Unhandled"}, {"x-amzn-RequestId", "L1"}};
  json sub = record({"Lambda", "Invoke", "us-east-1"}, request, outcome);
  EXPECT_EQ(sub["aws"]["function_name"], "my-function");
  EXPECT_EQ(sub["aws"]["qualifier"], "live");
  EXPECT_EQ(sub["aws"]["invocation_type"], "RequestResponse");
  EXPECT_EQ(sub["aws"]["status_code"], 200);
  EXPECT_EQ(sub["aws"]["function_error"], "Unhandled");
}

TEST_F(AwsCallTest, MalformedBodiesLoseOnlyTheirParameters) {
  HttpCall request;
  request.body = R"({"TableName": "users", )";  // cut short
  CallOutcome outcome;
  outcome.status = 200;
  outcome.response_body = "{]";
  json sub = record({"DynamoDB", "GetItem", "eu-west-1"}, request, outcome);
  EXPECT_EQ(sub["name"], "DynamoDB");
  EXPECT_EQ(sub["aws"], json({{"operation", "GetItem"}, {"region", "eu-west-1"}, {"retries", 0}}));
  EXPECT_EQ(sub["http"]["response"]["status"], 200);
}

TEST_F(AwsCallTest, RequestBodyMembersAreFoundPastTrickyValues) {
  // Brackets, braces, commas and escaped quotes inside strings and nested values must not
  // confuse the scan for top-level members.
  HttpCall request;
  request.body =
      R"( { "Key" : {"id": {"S": "a}],\"{["}}, "ProjectionExpression":"#n, b",)"
      R"( "Nested": [[1, {"x": "]"}], []], "ConsistentRead" : false , "TableName":"t\u00e9"} )";
  CallOutcome outcome;
  outcome.status = 200;
  json sub = record({"DynamoDB", "GetItem", "eu-west-1"}, request, outcome);
  EXPECT_EQ(sub["aws"]["projection_expression"], "#n, b");
  EXPECT_EQ(sub["aws"]["consistent_read"], false);
  EXPECT_EQ(sub["aws"]["table_name"], "t\u00e9");
}

TEST_F(AwsCallTest, MemberValuesAreReadExactlyAsAJsonParserReadsThem) {
  // Short strings, flags and counts take a path of their own; each must give what the JSON
  // parser gives, and invalid text must still cost the body its parameters.
  for (const char* value :
       {R"("users")", R"("")", R"("a\"b")", R"("t\u00e9")", "\"na\xc3\xafve\"", "\"tab\there\"",
        "true", "false", "null", "0", "7", "123456789012345678", "12345678901234567890", "-3",
        "1.5", "1e3", "007", "01", "tru", "nul", "1-2", R"(["a"])", R"({"S":"x"})"}) {
    HttpCall request;
    const std::string body = std::string(R"({"TableName":)") + value + "}";
    request.body = body;
    CallOutcome outcome;
    outcome.status = 200;
    json sub = record({"DynamoDB", "GetItem", "eu-west-1"}, request, outcome);
    const json expected = json::parse(value, nullptr, /*allow_exceptions=*/false);
    if (expected.is_discarded()) {
      EXPECT_FALSE(sub["aws"].contains("table_name")) << value;
    } else {
      ASSERT_TRUE(sub["aws"].contains("table_name")) << value;
      EXPECT_EQ(sub["aws"]["table_name"], expected) << value;
      EXPECT_EQ(sub["aws"]["table_name"].type(), expected.type()) << value;
    }
    daemon_.clear();
  }
}

TEST_F(AwsCallTest, MalformedRequestBodiesGiveNoParameters) {
  for (const char* body :
       {R"({"TableName":"t"} trailing)", R"({"TableName":"t")", R"({"TableName":tru})",
        R"({"TableName":"t",})", R"({"Key":{"id":1},"TableName":"t")", R"(["TableName"])"}) {
    HttpCall request;
    request.body = body;
    CallOutcome outcome;
    outcome.status = 200;
    json sub = record({"DynamoDB", "GetItem", "eu-west-1"}, request, outcome);
    EXPECT_FALSE(sub["aws"].contains("table_name")) << body;
    EXPECT_EQ(sub["aws"]["operation"], "GetItem") << body;
    daemon_.clear();
  }
}

TEST_F(AwsCallTest, LargeBodiesKeepTheirTopLevelScalars) {
  std::string body =
      R"({"TableName":"big","Item":{"blob":{"S":")" + std::string(200 * 1024, 'x') + R"("}}})";
  HttpCall request;
  request.body = body;
  CallOutcome outcome;
  outcome.status = 200;
  json sub = record({"DynamoDB", "PutItem", "eu-west-1"}, request, outcome);
  EXPECT_EQ(sub["aws"]["table_name"], "big");
}

TEST_F(AwsCallTest, EmptyAllowListRecordsNoParameters) {
  HttpCall request;
  request.body = R"({"TableName":"users"})";
  CallOutcome outcome;
  outcome.status = 200;
  json sub = record({"DynamoDB", "GetItem", "eu-west-1"}, request, outcome, ParameterAllowList());
  EXPECT_FALSE(sub["aws"].contains("table_name"));
  EXPECT_EQ(sub["aws"]["operation"], "GetItem");
}

TEST_F(AwsCallTest, TheCallIsNotCurrentAndCarriesItsOwnIdDownstream) {
  std::string header;
  std::string call_id;
  {
    auto segment = recorder_.begin_segment("service");
    SubsegmentScope call = begin_call(recorder_, {"SQS", "SendMessage", "us-east-1"});
    EXPECT_EQ(current_context().entity_id(), segment.id());
    header = call.outbound_header().to_string();
    call_id = call.id();
  }
  EXPECT_THAT(header, ::testing::HasSubstr("Parent=" + call_id));
  EXPECT_EQ(only_document()["subsegments"][0]["aws"]["operation"], "SendMessage");
}

}  // namespace
}  // namespace xray::aws
