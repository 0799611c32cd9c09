// Fuzz target: what the EKS plugin reads (spec §8.4): the service-account token file (sent back
// as `Authorization: Bearer <token>`), the amazon-cloudwatch/cluster-info config map from the
// Kubernetes API, and the cgroup and mountinfo files.
// Input: token file, NUL, config map JSON, NUL, /proc/self/cgroup, NUL, /proc/self/mountinfo.
//
// Properties: nothing crashes or throws; an accepted bearer token is visible ASCII only; the
// metadata merged into a segment document keeps it one valid JSON object in valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "fuzz_document.hpp"
#include "fuzz_split.hpp"
#include "plugins/plugin_parsers.hpp"
#include "plugins/plugin_support.hpp"

namespace detail = xray::plugins::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = xray::fuzz::split_parts(data, size, 4);
  if (auto token = detail::bearer_token(parts[0].value_or(""))) {
    XRAY_FUZZ_CHECK(!token->empty(), "accepted an empty bearer token");
    for (char c : *token) {
      XRAY_FUZZ_CHECK(c >= 0x21 && c <= 0x7E, "accepted a bearer token that is not visible ASCII");
    }
  }
  std::string cluster;
  if (parts[1]) {
    if (auto config_map = detail::parse_json_object(*parts[1])) {
      cluster = detail::eks_cluster_name(*config_map);
    }
  }
  const std::string id = detail::container_id_from(parts[2], parts[3]).value_or("");
  xray::PluginMetadata metadata = detail::eks_metadata("pod-1", id, cluster);
  XRAY_FUZZ_CHECK(metadata.aws.is_object() && metadata.aws.contains("eks"), "aws.eks missing");
  xray::fuzz::check_plugin_document(metadata.origin, metadata.aws);
  return 0;
}
