// The default parameter allow-list (spec §10): the entries of the official SDKs' list
// (aws_para_whitelist.json) for DynamoDB, SQS, SNS, Lambda, S3 and SageMaker runtime, built from
// tables so that the many S3 operations that only name their bucket stay one line each.
#include "aws/default_allow_list.hpp"

#include <initializer_list>
#include <string>

namespace xray::aws::detail {
namespace {

using json = nlohmann::json;

json strings(std::initializer_list<const char*> names) {
  json list = json::array();
  for (const char* name : names) list.push_back(name);
  return list;
}

json map_keys(const char* rename_to) {
  return {{"map", true}, {"get_keys", true}, {"rename_to", rename_to}};
}

json list_count(const char* rename_to) {
  return {{"list", true}, {"get_count", true}, {"rename_to", rename_to}};
}

json dynamodb() {
  const json table = {{"request_parameters", strings({"TableName"})}};
  const json item_write = {
      {"request_parameters", strings({"TableName"})},
      {"response_parameters", strings({"ConsumedCapacity", "ItemCollectionMetrics"})}};
  json ops = json::object();
  ops["BatchGetItem"] = {{"request_descriptors", {{"RequestItems", map_keys("table_names")}}},
                         {"response_parameters", strings({"ConsumedCapacity"})}};
  ops["BatchWriteItem"] = {
      {"request_descriptors", {{"RequestItems", map_keys("table_names")}}},
      {"response_parameters", strings({"ConsumedCapacity", "ItemCollectionMetrics"})}};
  ops["CreateTable"] = {
      {"request_parameters", strings({"GlobalSecondaryIndexes", "LocalSecondaryIndexes",
                                      "ProvisionedThroughput", "TableName"})}};
  ops["DeleteItem"] = item_write;
  ops["DeleteTable"] = table;
  ops["DescribeTable"] = table;
  ops["GetItem"] = {
      {"request_parameters", strings({"ConsistentRead", "ProjectionExpression", "TableName"})},
      {"response_parameters", strings({"ConsumedCapacity"})}};
  ops["ListTables"] = {{"request_parameters", strings({"ExclusiveStartTableName", "Limit"})},
                       {"response_descriptors", {{"TableNames", list_count("table_count")}}}};
  ops["PutItem"] = item_write;
  ops["Query"] = {{"request_parameters",
                   strings({"AttributesToGet", "ConsistentRead", "IndexName", "Limit",
                            "ProjectionExpression", "ScanIndexForward", "Select", "TableName"})},
                  {"response_parameters", strings({"ConsumedCapacity"})}};
  ops["Scan"] = {{"request_parameters", strings({"AttributesToGet", "ConsistentRead", "IndexName",
                                                 "Limit", "ProjectionExpression", "Segment",
                                                 "Select", "TableName", "TotalSegments"})},
                 {"response_parameters", strings({"ConsumedCapacity", "Count", "ScannedCount"})}};
  ops["UpdateItem"] = item_write;
  ops["UpdateTable"] = {
      {"request_parameters", strings({"AttributeDefinitions", "GlobalSecondaryIndexUpdates",
                                      "ProvisionedThroughput", "TableName"})}};
  return ops;
}

json sqs() {
  const json queue = {{"request_parameters", strings({"QueueUrl"})}};
  const json queue_failed = {{"request_parameters", strings({"QueueUrl"})},
                             {"response_parameters", strings({"Failed"})}};
  json ops = json::object();
  ops["AddPermission"] = {{"request_parameters", strings({"Label", "QueueUrl"})}};
  ops["ChangeMessageVisibility"] = {
      {"request_parameters", strings({"QueueUrl", "VisibilityTimeout"})}};
  ops["ChangeMessageVisibilityBatch"] = queue_failed;
  ops["CreateQueue"] = {{"request_parameters", strings({"Attributes", "QueueName"})}};
  ops["DeleteMessage"] = queue;
  ops["DeleteMessageBatch"] = queue_failed;
  ops["DeleteQueue"] = queue;
  ops["GetQueueAttributes"] = {{"request_parameters", strings({"QueueUrl"})},
                               {"response_parameters", strings({"Attributes"})}};
  ops["GetQueueUrl"] = {{"request_parameters", strings({"QueueName", "QueueOwnerAWSAccountId"})},
                        {"response_parameters", strings({"QueueUrl"})}};
  ops["ListDeadLetterSourceQueues"] = {{"request_parameters", strings({"QueueUrl"})},
                                       {"response_parameters", strings({"QueueUrls"})}};
  ops["ListQueues"] = {{"request_parameters", strings({"QueueNamePrefix"})},
                       {"response_descriptors", {{"QueueUrls", list_count("queue_count")}}}};
  ops["PurgeQueue"] = queue;
  ops["ReceiveMessage"] = {
      {"request_parameters",
       strings({"AttributeNames", "MaxNumberOfMessages", "MessageAttributeNames", "QueueUrl",
                "VisibilityTimeout", "WaitTimeSeconds"})},
      {"response_descriptors", {{"Messages", list_count("message_count")}}}};
  ops["RemovePermission"] = queue;
  ops["SendMessage"] = {
      {"request_parameters", strings({"DelaySeconds", "QueueUrl"})},
      {"request_descriptors", {{"MessageAttributes", map_keys("message_attribute_names")}}},
      {"response_parameters", strings({"MessageId"})}};
  ops["SendMessageBatch"] = {
      {"request_parameters", strings({"QueueUrl"})},
      {"request_descriptors", {{"Entries", list_count("message_count")}}},
      {"response_descriptors",
       {{"Failed", list_count("failed_count")}, {"Successful", list_count("successful_count")}}}};
  ops["SetQueueAttributes"] = {
      {"request_parameters", strings({"QueueUrl"})},
      {"request_descriptors", {{"Attributes", map_keys("attribute_names")}}}};
  return ops;
}

json s3() {
  const json bucket = {{"Bucket", {{"rename_to", "bucket_name"}}}};
  json ops = json::object();
  auto add = [&](std::initializer_list<const char*> names,
                 std::initializer_list<const char*> parameters) {
    for (const char* name : names) {
      json op = {{"request_descriptors", bucket}};
      if (parameters.size() > 0) op["request_parameters"] = strings(parameters);
      ops[name] = std::move(op);
    }
  };
  add({"CreateBucket",
       "DeleteBucket",
       "HeadBucket",
       "DeleteObjects",
       "GetBucketAcl",
       "PutBucketAcl",
       "GetBucketPolicy",
       "PutBucketPolicy",
       "DeleteBucketPolicy",
       "PutBucketNotificationConfiguration",
       "GetBucketNotificationConfiguration",
       "DeleteBucketLifecycleConfiguration",
       "GetBucketLifecycleConfiguration",
       "SetBucketLifecycleConfiguration",
       "DeleteBucketCors",
       "PutBucketCors",
       "GetBucketCors",
       "ListBucketInventoryConfigurations",
       "GetBucketInventoryConfiguration",
       "PutBucketInventoryConfiguration",
       "DeleteBucketInventoryConfiguration",
       "GetBucketReplicationConfiguration",
       "PutBucketReplicationConfiguration",
       "DeleteBucketReplicationConfiguration",
       "ListBucketAnalyticsConfigurations",
       "GetBucketAnalyticsConfiguration",
       "PutBucketAnalyticsConfiguration",
       "DeleteBucketAnalyticsConfiguration",
       "ListBucketMetricsConfigurations",
       "GetBucketMetricsConfiguration",
       "PutBucketMetricsConfiguration",
       "DeleteBucketMetricsConfiguration",
       "PutBucketVersioning",
       "GetBucketVersioning",
       "GetBucketWebsite",
       "PutBucketWebsite",
       "DeleteBucketWebsite",
       "GetBucketTagging",
       "PutBucketTagging",
       "DeleteBucketTagging",
       "GetBucketLocation",
       "GetBucketLogging",
       "SetBucketLogging",
       "GetBucketEncryption",
       "PutBucketEncryption",
       "DeleteBucketEncryption",
       "GetBucketAccelerateConfiguration",
       "PutBucketAccelerateConfiguration"},
      {});
  add({"GetObject", "GetObjectAcl", "SetObjectAcl", "GetObjectTagging", "PutObjectTagging",
       "DeleteObjectTagging", "DeleteVersion", "RestoreObject", "RestoreObjectV2",
       "GeneratePresignedUrl"},
      {"Key", "VersionId"});
  add({"PutObject", "UploadPart", "DeleteObject", "ListParts", "CompleteMultipartUpload",
       "InitiateMultipartUpload", "AbortMultipartUpload"},
      {"Key"});
  add({"ListObjects", "ListObjectsV2", "ListVersions", "ListMultipartUploads"}, {"Prefix"});
  ops["CopyObject"] = {{"request_parameters", strings({"CopySource", "Bucket", "Key"})}};
  return ops;
}

}  // namespace

nlohmann::json default_allow_list() {
  json services = json::object();
  services["dynamodb"] = {{"operations", dynamodb()}};
  services["sqs"] = {{"operations", sqs()}};
  services["sns"] = {{"operations",
                      {{"Publish", {{"request_parameters", strings({"TopicArn"})}}},
                       {"PublishBatch", {{"request_parameters", strings({"TopicArn"})}}}}}};
  services["lambda"] = {{"operations",
                         {{"Invoke",
                           {{"request_parameters",
                             strings({"FunctionName", "InvocationType", "LogType", "Qualifier"})},
                            {"response_parameters", strings({"FunctionError", "StatusCode"})}}},
                          {"InvokeAsync",
                           {{"request_parameters", strings({"FunctionName"})},
                            {"response_parameters", strings({"Status"})}}}}}};
  services["s3"] = {{"operations", s3()}};
  services["runtime.sagemaker"] = {
      {"operations", {{"InvokeEndpoint", {{"request_parameters", strings({"EndpointName"})}}}}}};
  return services;
}

}  // namespace xray::aws::detail
