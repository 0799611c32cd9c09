// xray/version.hpp: the SDK's name and version, as written to aws.xray on every segment.
#pragma once

#include <string_view>

namespace xray {

inline constexpr std::string_view kSdkName = "X-Ray for C++";
inline constexpr std::string_view kSdkVersion = "0.1.0";

}  // namespace xray
