// ECS: the task metadata endpoint (v4, else v3) for container and task fields, cgroups for the
// container id when the endpoint has none.
#include "plugins/plugin_support.hpp"
#include "xray/plugins.hpp"

namespace xray::plugins {
namespace {

// "arn:aws:ecs:us-west-2:111122223333:container/..." -> {"aws", "111122223333"}
std::pair<std::string, std::string> partition_and_account(const std::string& arn) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    std::size_t colon = arn.find(':', start);
    if (colon == std::string::npos) return {};
    parts.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  if (parts[0] != "arn") return {};
  return {parts[1], parts[4]};
}

class EcsPlugin final : public Plugin {
 public:
  explicit EcsPlugin(EcsOptions options) : options_(std::move(options)) {}

  std::string_view name() const noexcept override { return "ECSPlugin"; }

  std::optional<PluginMetadata> detect(std::chrono::steady_clock::time_point deadline) const override {
    std::string uri = options_.metadata_uri;
    if (uri.empty()) {
      uri = detail::environment("ECS_CONTAINER_METADATA_URI_V4")
                .value_or(detail::environment("ECS_CONTAINER_METADATA_URI").value_or(""));
    }
    if (uri.empty()) return std::nullopt;  // not on ECS
    if (uri.rfind("http://", 0) != 0) {
      throw detail::DetectionError("task metadata URI is not http://: " + uri);
    }
    while (!uri.empty() && uri.back() == '/') uri.pop_back();

    nlohmann::json container = detail::get_json(uri, {}, options_.connect_timeout, deadline);
    nlohmann::json ecs;
    std::string host = options_.hostname.empty() ? detail::host_name() : options_.hostname;
    if (!host.empty()) ecs["container"] = host;
    std::string docker_id = detail::string_field(container, "DockerId");
    if (docker_id.empty()) {
      docker_id = detail::container_id(options_.cgroup_path, options_.mountinfo_path).value_or("");
    }
    if (!docker_id.empty()) ecs["container_id"] = docker_id;
    std::string container_arn = detail::string_field(container, "ContainerARN");
    if (!container_arn.empty()) ecs["container_arn"] = container_arn;

    try {
      nlohmann::json task = detail::get_json(uri + "/task", {}, options_.connect_timeout, deadline);
      for (auto [from, to] : {std::pair{"TaskARN", "task_arn"}, std::pair{"Family", "task_family"},
                              std::pair{"LaunchType", "launch_type"},
                              std::pair{"AvailabilityZone", "availability_zone"}}) {
        std::string value = detail::string_field(task, from);
        if (!value.empty()) ecs[to] = value;
      }
      std::string cluster = detail::string_field(task, "Cluster");
      if (cluster.rfind("arn:", 0) == 0) ecs["cluster_arn"] = cluster;
    } catch (const detail::DetectionError&) {
      // The task document is optional (v3 endpoints on old agents): container fields still count.
    }

    PluginMetadata metadata;
    metadata.origin = "AWS::ECS::Container";
    metadata.aws = {{"ecs", std::move(ecs)}};
    if (auto logs = cloudwatch_logs(container, container_arn)) metadata.aws["cloudwatch_logs"] = *logs;
    return metadata;
  }

 private:
  static std::optional<nlohmann::json> cloudwatch_logs(const nlohmann::json& container,
                                                       const std::string& container_arn) {
    if (detail::string_field(container, "LogDriver") != "awslogs") return std::nullopt;
    auto options = container.find("LogOptions");
    if (options == container.end() || !options->is_object()) return std::nullopt;
    std::string group = detail::string_field(*options, "awslogs-group");
    if (group.empty()) return std::nullopt;
    nlohmann::json entry = {{"log_group", group}};
    std::string region = detail::string_field(*options, "awslogs-region");
    auto [partition, account] = partition_and_account(container_arn);
    if (!region.empty() && !partition.empty() && !account.empty()) {
      entry["arn"] = "arn:" + partition + ":logs:" + region + ":" + account + ":log-group:" + group;
    }
    return nlohmann::json::array({entry});
  }

  EcsOptions options_;
};

}  // namespace

std::shared_ptr<const Plugin> ecs(EcsOptions options) {
  return std::make_shared<EcsPlugin>(std::move(options));
}

}  // namespace xray::plugins
