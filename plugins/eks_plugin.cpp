// EKS: enabled by the service-account token; the cluster name from the environment or, within the
// budget, from the amazon-cloudwatch/cluster-info config map over TLS verified with the
// service account's CA.
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
    nlohmann::json eks;
    std::string pod = options_.hostname.empty() ? detail::host_name() : options_.hostname;
    if (!pod.empty()) eks["pod"] = pod;
    if (auto id = detail::container_id(options_.cgroup_path, options_.mountinfo_path)) {
      eks["container_id"] = *id;
    }
    std::string cluster = options_.cluster_name;
    if (cluster.empty()) cluster = detail::environment("AWS_XRAY_EKS_CLUSTER_NAME").value_or("");
    if (cluster.empty()) cluster = cluster_from_config_map(deadline);
    if (!cluster.empty()) eks["cluster_name"] = cluster;

    PluginMetadata metadata;
    metadata.origin = "AWS::EKS::Container";
    metadata.aws = {{"eks", std::move(eks)}};
    if (!cluster.empty()) {
      metadata.aws["cloudwatch_logs"] = nlohmann::json::array(
          {{{"log_group", "/aws/containerinsights/" + cluster + "/application"}}});
    }
    return metadata;
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
    auto token = detail::read_small_file(options_.token_path);
    if (!token) return "";
    while (!token->empty() && (token->back() == '\n' || token->back() == '\r')) token->pop_back();
    try {
      nlohmann::json config_map = detail::get_json(url + kClusterInfoPath,
                                                   {{"Authorization", "Bearer " + *token}},
                                                   options_.connect_timeout, deadline, options_.ca_path);
      auto data = config_map.find("data");
      if (data == config_map.end() || !data->is_object()) return "";
      return detail::string_field(*data, "cluster.name");
    } catch (const detail::DetectionError&) {
      return "";
    }
  }

  EksOptions options_;
};

}  // namespace

std::shared_ptr<const Plugin> eks(EksOptions options) {
  return std::make_shared<EksPlugin>(std::move(options));
}

}  // namespace xray::plugins
