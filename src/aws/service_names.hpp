// AWS service names: X-Ray names, allow-list keys, and the names requests carry.
#pragma once

#include <string>
#include <string_view>

namespace xray::aws::detail {

// The allow-list key (a lower-case endpoint prefix) for any name service_name() accepts:
// "DynamoDB" -> "dynamodb", "SageMaker Runtime" -> "runtime.sagemaker".
std::string allow_list_key(std::string_view any_name);
// The same without allocating: the known service's key, or `any_name` unchanged (compare it
// case-insensitively).
std::string_view allow_list_key_view(std::string_view any_name) noexcept;

// The X-Ray service name for the prefix of an X-Amz-Target value ("DynamoDB_20120810",
// "AmazonSQS", "TrentService"); empty when unknown.
std::string service_from_target_prefix(std::string_view prefix);

}  // namespace xray::aws::detail
