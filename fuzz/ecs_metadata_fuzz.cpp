// Fuzz target: what the ECS plugin reads (spec §8.3): the task metadata endpoint's container
// document and task document, and the cgroup and mountinfo files for the container id.
// Input: container JSON, NUL, task JSON, NUL, /proc/self/cgroup, NUL, /proc/self/mountinfo.
//
// Properties: nothing crashes or throws anything but DetectionError; a container id taken from
// cgroups is 64 lowercase hex digits; cluster_arn is an ARN; the metadata merged into a segment
// document keeps it one valid JSON object in valid UTF-8.
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
  const auto cgroup_id = detail::container_id_from(parts[2], parts[3]);
  if (cgroup_id) {
    XRAY_FUZZ_CHECK(cgroup_id->size() == 64 &&
                        cgroup_id->find_first_not_of("0123456789abcdef") == std::string::npos,
                    "container id from cgroups is not 64 lowercase hex digits");
  }
  auto container = detail::parse_json_object(parts[0].value_or(""));
  if (!container) return 0;
  std::optional<nlohmann::json> task;
  if (parts[1]) task = detail::parse_json_object(*parts[1]);
  try {
    xray::PluginMetadata metadata = detail::ecs_metadata(
        *container, task ? &*task : nullptr, "ip-10-0-0-1", [&] { return cgroup_id; });
    XRAY_FUZZ_CHECK(metadata.aws.is_object() && metadata.aws.contains("ecs"), "aws.ecs missing");
    const auto& ecs = metadata.aws["ecs"];
    if (ecs.contains("cluster_arn")) {
      XRAY_FUZZ_CHECK(ecs["cluster_arn"].get<std::string>().rfind("arn:", 0) == 0,
                      "cluster_arn is not an ARN");
    }
    xray::fuzz::check_plugin_document(metadata.origin, metadata.aws);
  } catch (const detail::DetectionError&) {
  }
  return 0;
}
