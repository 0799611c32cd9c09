// The parameter allow-list (spec §10): snake_case names, every descriptor kind, the default list,
// user lists replacing and extending it, malformed lists and bodies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "xray/aws.hpp"

namespace xray::aws {
namespace {

using json = nlohmann::json;

TEST(SnakeCaseTest, FollowsTheOfficialRule) {
  EXPECT_EQ(to_snake_case("TableName"), "table_name");
  EXPECT_EQ(to_snake_case("QueueUrl"), "queue_url");
  EXPECT_EQ(to_snake_case("ConsistentRead"), "consistent_read");
  EXPECT_EQ(to_snake_case("MessageAttributeNames"), "message_attribute_names");
  EXPECT_EQ(to_snake_case("SSEKMSKeyId"), "ssekms_key_id");
  EXPECT_EQ(to_snake_case("QueueOwnerAWSAccountId"), "queue_owner_aws_account_id");
  EXPECT_EQ(to_snake_case("Ec2InstanceId"), "ec2_instance_id");
  EXPECT_EQ(to_snake_case("Limit"), "limit");
  EXPECT_EQ(to_snake_case(""), "");
}

json apply(const ParameterAllowList& list, std::string_view service, std::string_view operation,
           const json& request, const json& response = json::object()) {
  json aws = json::object();
  list.apply(service, operation, request, response, aws);
  return aws;
}

TEST(DefaultAllowListTest, DynamoDbParametersAndDescriptors) {
  const auto& list = ParameterAllowList::defaults();
  EXPECT_EQ(
      apply(list, "DynamoDB", "GetItem",
            {{"TableName", "users"}, {"ConsistentRead", true}, {"Key", {{"id", {{"S", "1"}}}}}},
            {{"ConsumedCapacity", {{"CapacityUnits", 0.5}}}, {"Item", json::object()}}),
      json({{"table_name", "users"},
            {"consistent_read", true},
            {"consumed_capacity", {{"CapacityUnits", 0.5}}}}));
  // map + get_keys + rename_to
  EXPECT_EQ(apply(list, "dynamodb", "BatchGetItem",
                  {{"RequestItems", {{"users", json::object()}, {"orders", json::object()}}}}),
            json({{"table_names", {"orders", "users"}}}));
  // list + get_count + rename_to, on the response
  EXPECT_EQ(
      apply(list, "DynamoDB", "ListTables", {{"Limit", 10}}, {{"TableNames", {"a", "b", "c"}}}),
      json({{"limit", 10}, {"table_count", 3}}));
  EXPECT_EQ(apply(list, "DynamoDB", "NoSuchOperation", {{"TableName", "users"}}), json::object());
  EXPECT_EQ(apply(list, "Kinesis", "PutRecord", {{"StreamName", "s"}}), json::object());
}

TEST(DefaultAllowListTest, SqsSnsLambdaS3SageMaker) {
  const auto& list = ParameterAllowList::defaults();
  EXPECT_EQ(apply(list, "SQS", "SendMessageBatch", {{"QueueUrl", "u"}, {"Entries", {1, 2}}},
                  {{"Failed", json::array()}, {"Successful", {1, 2}}}),
            json({{"queue_url", "u"},
                  {"message_count", 2},
                  {"failed_count", 0},
                  {"successful_count", 2}}));
  EXPECT_EQ(
      apply(list, "SQS", "SendMessage", {{"MessageAttributes", {{"k", 1}}}, {"DelaySeconds", 5}}),
      json({{"message_attribute_names", {"k"}}, {"delay_seconds", 5}}));
  EXPECT_EQ(
      apply(list, "SNS", "Publish", {{"TopicArn", "arn:aws:sns:us-east-1:1:t"}, {"Message", "m"}}),
      json({{"topic_arn", "arn:aws:sns:us-east-1:1:t"}}));
  EXPECT_EQ(apply(list, "Lambda", "Invoke", {{"FunctionName", "f"}, {"Qualifier", "3"}},
                  {{"StatusCode", 200}, {"FunctionError", "Unhandled"}}),
            json({{"function_name", "f"},
                  {"qualifier", "3"},
                  {"status_code", 200},
                  {"function_error", "Unhandled"}}));
  // rename-only descriptor
  EXPECT_EQ(apply(list, "S3", "GetObject", {{"Bucket", "b"}, {"Key", "k"}}),
            json({{"bucket_name", "b"}, {"key", "k"}}));
  EXPECT_EQ(apply(list, "SageMaker Runtime", "InvokeEndpoint", {{"EndpointName", "e"}}),
            json({{"endpoint_name", "e"}}));
}

TEST(DefaultAllowListTest, ValuesOfTheWrongShapeAreSkipped) {
  const auto& list = ParameterAllowList::defaults();
  EXPECT_EQ(apply(list, "DynamoDB", "BatchGetItem", {{"RequestItems", "not a map"}}),
            json::object());
  EXPECT_EQ(apply(list, "DynamoDB", "ListTables", {}, {{"TableNames", 7}}), json::object());
  EXPECT_EQ(apply(list, "DynamoDB", "GetItem", json("not an object")), json::object());
}

TEST(ParameterAllowListTest, UserListReplacesOrExtendsTheDefault) {
  std::string error;
  auto mine = ParameterAllowList::parse(R"({"services": {
      "dynamodb": {"operations": {"GetItem": {"request_parameters": ["Key"]}}},
      "kinesis": {"operations": {"PutRecord": {"request_parameters": ["StreamName"]}}}}})",
                                        &error);
  ASSERT_TRUE(mine) << error;
  // Replacing: only the user's list applies.
  EXPECT_EQ(apply(*mine, "DynamoDB", "GetItem", {{"TableName", "t"}, {"Key", 1}}),
            json({{"key", 1}}));
  EXPECT_EQ(apply(*mine, "DynamoDB", "PutItem", {{"TableName", "t"}}), json::object());
  // Extending: the user's operations replace the default's, the others stay.
  ParameterAllowList extended = ParameterAllowList::defaults();
  extended.extend(*mine);
  EXPECT_EQ(apply(extended, "DynamoDB", "GetItem", {{"TableName", "t"}, {"Key", 1}}),
            json({{"key", 1}}));
  EXPECT_EQ(apply(extended, "DynamoDB", "PutItem", {{"TableName", "t"}}),
            json({{"table_name", "t"}}));
  EXPECT_EQ(apply(extended, "Kinesis", "PutRecord", {{"StreamName", "s"}}),
            json({{"stream_name", "s"}}));
  // The default itself is unchanged.
  EXPECT_EQ(apply(ParameterAllowList::defaults(), "Kinesis", "PutRecord", {{"StreamName", "s"}}),
            json::object());
}

TEST(ParameterAllowListTest, MalformedListsAreRejectedWithAReason) {
  struct Case {
    const char* text;
    const char* reason;
  };
  const Case cases[] = {
      {"{", "not valid JSON"},
      {"[]", "not a JSON object"},
      {R"({"service": {}})", "no \"services\" object"},
      {R"({"services": {"sqs": []}})", "services.sqs is not an object"},
      {R"({"services": {"sqs": {"ops": {}}}})", "services.sqs has no \"operations\" object"},
      {R"({"services": {"sqs": {"operations": {"SendMessage": {"request_parameters": "QueueUrl"}}}}})",
       "services.sqs.operations.SendMessage request_parameters is not an array of strings"},
      {R"({"services": {"sqs": {"operations": {"SendMessage": {"request_descriptors": {"E": {"get_count": 1}}}}}}})",
       "services.sqs.operations.SendMessage request_descriptors.E.get_count is not a boolean"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(ParameterAllowList::parse(c.text, &error)) << c.text;
    EXPECT_EQ(error, c.reason) << c.text;
  }
  EXPECT_TRUE(ParameterAllowList::parse(R"({"services": {}})")->empty());
}

}  // namespace
}  // namespace xray::aws
