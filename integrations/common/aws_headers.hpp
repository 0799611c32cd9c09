// Internal to the integrations: the headers an AWS call is recognised and recorded by
// (xray/aws.hpp). Clients copy only these, so a plain HTTP call pays for no header copies.
#pragma once

#include <array>
#include <string_view>

namespace xray::integrations {

// Request: recognition (Authorization, X-Amz-Target) and the REST-bound parameters of Lambda
// and S3.
inline constexpr std::array<std::string_view, 5> kAwsRequestHeaders{
    "Authorization", "X-Amz-Target", "X-Amz-Invocation-Type", "X-Amz-Log-Type",
    "X-Amz-Copy-Source"};

// Response: request ids, the error type, Lambda's function error.
inline constexpr std::array<std::string_view, 5> kAwsResponseHeaders{
    "x-amzn-RequestId", "x-amz-request-id", "x-amz-id-2", "x-amzn-ErrorType",
    "X-Amz-Function-Error"};

}  // namespace xray::integrations
