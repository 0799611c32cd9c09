// The names of AWS services as X-Ray shows them (the AWS SDKs' service ids, as aws-sdk-go-v2 and
// aws-sdk-cpp report them) and the names requests carry: SigV4 signing names, endpoint prefixes,
// X-Amz-Target prefixes.
#include "aws/service_names.hpp"

#include <array>

#include "base/ascii.hpp"
#include "xray/aws.hpp"

namespace xray::aws {
namespace {

struct Service {
  std::string_view key;        // endpoint prefix / allow-list key, lower case
  std::string_view signing;    // SigV4 signing name when it differs from the key, else empty
  std::string_view xray_name;  // the service id
  std::string_view target;     // X-Amz-Target prefix (JSON protocols), else empty
};

constexpr std::array<Service, 26> kServices{{
    {"dynamodb", "", "DynamoDB", "DynamoDB_20120810"},
    {"sqs", "", "SQS", "AmazonSQS"},
    {"sns", "", "SNS", ""},
    {"lambda", "", "Lambda", ""},
    {"s3", "", "S3", ""},
    {"runtime.sagemaker", "sagemaker", "SageMaker Runtime", ""},
    {"kinesis", "", "Kinesis", "Kinesis_20131202"},
    {"firehose", "", "Firehose", "Firehose_20150804"},
    {"kms", "", "KMS", "TrentService"},
    {"secretsmanager", "", "Secrets Manager", "secretsmanager"},
    {"ssm", "", "SSM", "AmazonSSM"},
    {"events", "", "EventBridge", "AWSEvents"},
    {"logs", "", "CloudWatch Logs", "Logs_20140328"},
    {"monitoring", "", "CloudWatch", "GraniteServiceVersion20100801"},
    {"states", "", "SFN", "AWSStepFunctions"},
    {"sts", "", "STS", ""},
    {"iam", "", "IAM", ""},
    {"ec2", "", "EC2", ""},
    {"ecs", "", "ECS", "AmazonEC2ContainerServiceV20141113"},
    {"email", "ses", "SES", ""},
    {"cognito-idp", "", "Cognito Identity Provider", "AWSCognitoIdentityProviderService"},
    {"athena", "", "Athena", "AmazonAthena"},
    {"glue", "", "Glue", "AWSGlue"},
    {"bedrock-runtime", "bedrock", "Bedrock Runtime", ""},
    {"apigateway", "", "API Gateway", ""},
    {"xray", "", "XRay", ""},
}};

const Service* find(std::string_view any_name) noexcept {
  for (const Service& service : kServices) {
    if (xray::detail::iequals(any_name, service.key) ||
        xray::detail::iequals(any_name, service.xray_name) ||
        (!service.signing.empty() && xray::detail::iequals(any_name, service.signing))) {
      return &service;
    }
  }
  return nullptr;
}

}  // namespace

std::string service_name(std::string_view any_name) {
  const Service* service = find(any_name);
  return std::string(service != nullptr ? service->xray_name : any_name);
}

namespace detail {

std::string allow_list_key(std::string_view any_name) {
  const Service* service = find(any_name);
  return service != nullptr ? std::string(service->key) : xray::detail::lowercase(any_name);
}

std::string_view allow_list_key_view(std::string_view any_name) noexcept {
  const Service* service = find(any_name);
  return service != nullptr ? service->key : any_name;
}

std::string service_from_target_prefix(std::string_view prefix) {
  for (const Service& service : kServices) {
    if (!service.target.empty() && xray::detail::iequals(prefix, service.target)) {
      return std::string(service.xray_name);
    }
  }
  return {};
}

}  // namespace detail
}  // namespace xray::aws
