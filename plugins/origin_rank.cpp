// The built-in plugins' origin precedence (spec §8.5): the most specific environment wins.
#include <array>
#include <string_view>

#include "xray/plugin.hpp"

namespace xray {

int origin_rank(std::string_view origin) noexcept {
  // Most specific wins: Elastic Beanstalk > EKS > ECS > EC2 (spec §8.5).
  static constexpr std::array<std::string_view, 4> kOrdered = {
      "AWS::EC2::Instance", "AWS::ECS::Container", "AWS::EKS::Container",
      "AWS::ElasticBeanstalk::Environment"};
  for (std::size_t i = 0; i < kOrdered.size(); ++i) {
    if (origin == kOrdered[i]) return static_cast<int>(i) + 1;
  }
  return 0;
}

}  // namespace xray
