// EKS: enabled by the service-account token; the cluster name from the environment or, within the
// budget, from the amazon-cloudwatch/cluster-info config map over TLS verified with the
// service account's CA.
#include "plugins/plugin_parsers.hpp"
#include "plugins/plugin_support.hpp"
#include "xray/plugins.hpp"

namespace xray::plugins {
namespace {

constexpr const char* kClusterInfoPath =
    "/api/v1/namespaces/amazon-cloudwatch/configmaps/cluster-info";

class EksPlugin final : public Plugin {
 public:
  explicit EksPlugin(EksOptions options) : options_(std::move(options)) {}

  std::string_view name() const noexcept override { return "EKSPlugin"; }

  std::optional<PluginMetadata> detect(std::chrono::steady_clock::time_point deadline) const override {
    if (!detail::file_exists(options_.token_path)) return std::nullopt;  // not in Kubernetes
    std::string pod = options_.hostname.empty() ? detail::host_name() : options_.hostname;
    std::string id = detail::container_id(options_.cgroup_path, options_.mountinfo_path).value_or("");
    std::string cluster = options_.cluster_name;
    if (cluster.empty()) cluster = detail::environment("AWS_XRAY_EKS_CLUSTER_NAME").value_or("");
    if (cluster.empty()) cluster = cluster_from_config_map(deadline);
    return detail::eks_metadata(pod, id, cluster);
  }

 private:
  // The optional part: any failure (403, no API server, TLS) just leaves cluster_name out.
  std::string cluster_from_config_map(std::chrono::steady_clock::time_point deadline) const {
    std::string url = options_.api_server_url;
    if (url.empty()) {
      auto host = detail::environment("KUBERNETES_SERVICE_HOST");
      if (!host) return "";
      std::string port = detail::environment("KUBERNETES_SERVICE_PORT").value_or("443");
      bool ipv6 = host->find(':') != std::string::npos;
      url = "https://" + (ipv6 ? "[" + *host + "]" : *host) + ":" + port;
    }
    auto file = detail::read_small_file(options_.token_path);
    if (!file) return "";
    auto token = detail::bearer_token(*file);
    if (!token) return "";  // not a token we can put in a header
    try {
      nlohmann::json config_map = detail::get_json(url + kClusterInfoPath,
                                                   {{"Authorization", "Bearer " + *token}},
                                                   options_.connect_timeout, deadline, options_.ca_path);
      return detail::eks_cluster_name(config_map);
    } catch (const detail::DetectionError&) {
      return "";
    }
  }

  EksOptions options_;
};

}  // namespace

namespace detail {

std::optional<std::string> bearer_token(std::string_view token_file) {
  while (!token_file.empty() && (token_file.back() == '\n' || token_file.back() == '\r')) {
    token_file.remove_suffix(1);
  }
  if (!is_header_safe_token(token_file)) return std::nullopt;
  return std::string(token_file);
}

std::string eks_cluster_name(const nlohmann::json& config_map) {
  auto data = config_map.find("data");
  if (data == config_map.end() || !data->is_object()) return "";
  return string_field(*data, "cluster.name");
}

PluginMetadata eks_metadata(const std::string& pod, const std::string& container_id,
                            const std::string& cluster) {
  nlohmann::json eks;
  if (!pod.empty()) eks["pod"] = pod;
  if (!container_id.empty()) eks["container_id"] = container_id;
  if (!cluster.empty()) eks["cluster_name"] = cluster;
  PluginMetadata metadata;
  metadata.origin = "AWS::EKS::Container";
  metadata.origin_precedence = origin_rank(metadata.origin);
  metadata.aws = {{"eks", std::move(eks)}};
  if (!cluster.empty()) {
    metadata.aws["cloudwatch_logs"] = nlohmann::json::array(
        {{{"log_group", "/aws/containerinsights/" + cluster + "/application"}}});
  }
  return metadata;
}

}  // namespace detail

std::shared_ptr<const Plugin> eks(EksOptions options) {
  return std::make_shared<EksPlugin>(std::move(options));
}

}  // namespace xray::plugins
