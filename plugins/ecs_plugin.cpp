// ECS: the task metadata endpoint (v4, else v3) for container and task fields, cgroups for the
// container id when the endpoint has none.
#include "plugins/plugin_parsers.hpp"
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

std::optional<nlohmann::json> cloudwatch_logs(const nlohmann::json& container,
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
    std::optional<nlohmann::json> task;
    try {
      task = detail::get_json(uri + "/task", {}, options_.connect_timeout, deadline);
    } catch (const detail::DetectionError&) {
      // The task document is optional (v3 endpoints on old agents): container fields still count.
    }
    std::string host = options_.hostname.empty() ? detail::host_name() : options_.hostname;
    return detail::ecs_metadata(container, task ? &*task : nullptr, host, [this] {
      return detail::container_id(options_.cgroup_path, options_.mountinfo_path);
    });
  }

 private:
  EcsOptions options_;
};

}  // namespace

namespace detail {

PluginMetadata ecs_metadata(const nlohmann::json& container, const nlohmann::json* task,
                            const std::string& host,
                            const std::function<std::optional<std::string>()>& cgroup_container_id) {
  nlohmann::json ecs;
  if (!host.empty()) ecs["container"] = host;
  std::string docker_id = string_field(container, "DockerId");
  if (docker_id.empty() && cgroup_container_id) docker_id = cgroup_container_id().value_or("");
  if (!docker_id.empty()) ecs["container_id"] = docker_id;
  std::string container_arn = string_field(container, "ContainerARN");
  if (!container_arn.empty()) ecs["container_arn"] = container_arn;

  if (task != nullptr) {
    for (auto [from, to] : {std::pair{"TaskARN", "task_arn"}, std::pair{"Family", "task_family"},
                            std::pair{"LaunchType", "launch_type"},
                            std::pair{"AvailabilityZone", "availability_zone"}}) {
      std::string value = string_field(*task, from);
      if (!value.empty()) ecs[to] = value;
    }
    std::string cluster = string_field(*task, "Cluster");
    if (cluster.rfind("arn:", 0) == 0) ecs["cluster_arn"] = cluster;
  }

  PluginMetadata metadata;
  metadata.origin = "AWS::ECS::Container";
  metadata.origin_precedence = origin_rank(metadata.origin);
  metadata.aws = {{"ecs", std::move(ecs)}};
  if (auto logs = cloudwatch_logs(container, container_arn)) metadata.aws["cloudwatch_logs"] = *logs;
  return metadata;
}

}  // namespace detail

std::shared_ptr<const Plugin> ecs(EcsOptions options) {
  return std::make_shared<EcsPlugin>(std::move(options));
}

}  // namespace xray::plugins
