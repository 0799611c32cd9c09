// Recognising AWS API requests on the wire (xray::aws::identify, service_name).
#include <gtest/gtest.h>

#include "xray/aws.hpp"

namespace xray::aws {
namespace {

CallIdentity must_identify(const HttpCall& call) {
  auto identity = identify(call);
  EXPECT_TRUE(identity.has_value());
  return identity.value_or(CallIdentity{});
}

TEST(ServiceNameTest, MapsSigningNamesPrefixesAndIds) {
  EXPECT_EQ(service_name("dynamodb"), "DynamoDB");
  EXPECT_EQ(service_name("DynamoDB"), "DynamoDB");
  EXPECT_EQ(service_name("sqs"), "SQS");
  EXPECT_EQ(service_name("runtime.sagemaker"), "SageMaker Runtime");
  EXPECT_EQ(service_name("sagemaker"), "SageMaker Runtime");
  EXPECT_EQ(service_name("Lambda"), "Lambda");
  EXPECT_EQ(service_name("NewService"), "NewService");
}

TEST(IdentifyTest, CurlSigV4AndTargetOnALocalEndpoint) {
  Headers headers{{"Content-Type", "application/x-amz-json-1.0"},
                  {"X-Amz-Target", "DynamoDB_20120810.GetItem"}};
  HttpCall call;
  call.method = "POST";
  call.host = "127.0.0.1:4567";
  call.path = "/";
  call.headers = &headers;
  call.sigv4 = "aws:amz:eu-west-1:dynamodb";
  CallIdentity id = must_identify(call);
  EXPECT_EQ(id.service, "DynamoDB");
  EXPECT_EQ(id.operation, "GetItem");
  EXPECT_EQ(id.region, "eu-west-1");
}

TEST(IdentifyTest, AuthorizationHeaderGivesServiceAndRegion) {
  Headers headers{{"authorization",
                   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-west-2/sqs/aws4_request, "
                   "SignedHeaders=host;x-amz-date, Signature=abc"},
                  {"x-amz-target", "AmazonSQS.SendMessage"}};
  HttpCall call;
  call.host = "localhost:9324";
  call.headers = &headers;
  CallIdentity id = must_identify(call);
  EXPECT_EQ(id.service, "SQS");
  EXPECT_EQ(id.operation, "SendMessage");
  EXPECT_EQ(id.region, "us-west-2");
}

TEST(IdentifyTest, TargetAloneNamesTheService) {
  Headers headers{{"X-Amz-Target", "TrentService.Decrypt"}};
  HttpCall call;
  call.host = "kms.internal:443";
  call.headers = &headers;
  CallIdentity id = must_identify(call);
  EXPECT_EQ(id.service, "KMS");
  EXPECT_EQ(id.operation, "Decrypt");
  EXPECT_EQ(id.region, "");
}

TEST(IdentifyTest, HostsUnderAmazonawsCom) {
  HttpCall call;
  call.method = "POST";
  call.host = "sns.ap-southeast-2.amazonaws.com";
  call.body = "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aap-southeast-2%3A1%3At&Message=hi";
  CallIdentity id = must_identify(call);
  EXPECT_EQ(id.service, "SNS");
  EXPECT_EQ(id.operation, "Publish");
  EXPECT_EQ(id.region, "ap-southeast-2");

  call = HttpCall{};
  call.method = "POST";
  call.host = "runtime.sagemaker.us-east-1.amazonaws.com:443";
  call.path = "/endpoints/e/invocations";
  id = must_identify(call);
  EXPECT_EQ(id.service, "SageMaker Runtime");
  EXPECT_EQ(id.region, "us-east-1");

  call = HttpCall{};
  call.host = "sts.amazonaws.com";
  call.query = "Action=GetCallerIdentity&Version=2011-06-15";
  id = must_identify(call);
  EXPECT_EQ(id.service, "STS");
  EXPECT_EQ(id.operation, "GetCallerIdentity");
  call.query = "?Action=GetCallerIdentity&Version=2011-06-15";  // as a URL splitter leaves it
  EXPECT_EQ(must_identify(call).operation, "GetCallerIdentity");
}

TEST(IdentifyTest, LambdaInvokeRoute) {
  HttpCall call;
  call.method = "POST";
  call.host = "lambda.us-east-1.amazonaws.com";
  call.path = "/2015-03-31/functions/my-function/invocations";
  CallIdentity id = must_identify(call);
  EXPECT_EQ(id.service, "Lambda");
  EXPECT_EQ(id.operation, "Invoke");
}

TEST(IdentifyTest, S3RestRoutesVirtualHostedAndPathStyle) {
  struct Case {
    const char* method;
    const char* host;
    const char* path;
    const char* query;
    const char* operation;
  };
  const Case cases[] = {
      {"GET", "bucket.s3.us-west-2.amazonaws.com", "/photos/a.jpg", "", "GetObject"},
      {"PUT", "bucket.s3.us-west-2.amazonaws.com", "/photos/a.jpg", "", "PutObject"},
      {"PUT", "bucket.s3.amazonaws.com", "/a", "partNumber=1&uploadId=x", "UploadPart"},
      {"DELETE", "s3.us-west-2.amazonaws.com", "/bucket/a", "", "DeleteObject"},
      {"HEAD", "s3.amazonaws.com", "/bucket/a", "", "HeadObject"},
      {"GET", "s3.amazonaws.com", "/bucket", "list-type=2&prefix=p", "ListObjectsV2"},
      {"GET", "bucket.s3.amazonaws.com", "/", "", "ListObjects"},
      {"PUT", "s3.amazonaws.com", "/bucket", "", "CreateBucket"},
      {"POST", "bucket.s3.amazonaws.com", "/", "delete", "DeleteObjects"},
      {"GET", "s3.amazonaws.com", "/", "", "ListBuckets"},
  };
  for (const Case& c : cases) {
    HttpCall call;
    call.method = c.method;
    call.host = c.host;
    call.path = c.path;
    call.query = c.query;
    CallIdentity id = must_identify(call);
    EXPECT_EQ(id.service, "S3") << c.host << c.path;
    EXPECT_EQ(id.operation, c.operation) << c.method << " " << c.host << c.path << "?" << c.query;
  }
  HttpCall call;
  call.method = "GET";
  call.host = "bucket.s3.us-west-2.amazonaws.com";
  call.path = "/k";
  EXPECT_EQ(must_identify(call).region, "us-west-2");
}

TEST(IdentifyTest, OrdinaryRequestsAreNotAwsCalls) {
  Headers headers{{"Authorization", "Bearer abc"}, {"Accept", "application/json"}};
  HttpCall call;
  call.method = "GET";
  call.host = "api.example.com";
  call.path = "/items";
  call.headers = &headers;
  EXPECT_FALSE(identify(call));
  call.host = "amazonaws.com.example.org";
  EXPECT_FALSE(identify(call));
  Headers malformed{{"Authorization", "AWS4-HMAC-SHA256 Credential=short/scope"}};
  call.headers = &malformed;
  EXPECT_FALSE(identify(call));
}

}  // namespace
}  // namespace xray::aws
