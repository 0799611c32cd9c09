// Elastic Beanstalk: the environment file the platform writes for the X-Ray daemon.
#include "plugins/plugin_parsers.hpp"
#include "plugins/plugin_support.hpp"
#include "xray/plugins.hpp"

namespace xray::plugins {
namespace {

class ElasticBeanstalkPlugin final : public Plugin {
 public:
  explicit ElasticBeanstalkPlugin(ElasticBeanstalkOptions options) : options_(std::move(options)) {}

  std::string_view name() const noexcept override { return "ElasticBeanstalkPlugin"; }

  std::optional<PluginMetadata> detect(std::chrono::steady_clock::time_point) const override {
    auto content = detail::read_small_file(options_.config_path);
    if (!content) return std::nullopt;  // not on Elastic Beanstalk
    return detail::elastic_beanstalk_metadata(*content, options_.config_path);
  }

 private:
  ElasticBeanstalkOptions options_;
};

}  // namespace

namespace detail {

PluginMetadata elastic_beanstalk_metadata(std::string_view content, const std::string& path) {
  auto document = parse_json_object(content);
  if (!document) throw DetectionError(path + " is not a JSON object");
  nlohmann::json beanstalk;
  for (const char* key : {"environment_name", "version_label"}) {
    std::string value = string_field(*document, key);
    if (!value.empty()) beanstalk[key] = value;
  }
  auto id = document->find("deployment_id");
  if (id != document->end()) {
    if (id->is_number_integer()) {
      beanstalk["deployment_id"] = *id;
    } else if (id->is_string() && !id->get_ref<const std::string&>().empty() &&
               id->get<std::string>().find_first_not_of("0123456789") == std::string::npos &&
               id->get_ref<const std::string&>().size() <= 18) {
      beanstalk["deployment_id"] = std::stoll(id->get<std::string>());
    }
  }
  if (beanstalk.empty()) throw DetectionError(path + " has none of the expected keys");
  PluginMetadata metadata;
  metadata.origin = "AWS::ElasticBeanstalk::Environment";
  metadata.origin_precedence = origin_rank(metadata.origin);
  metadata.aws = {{"elastic_beanstalk", std::move(beanstalk)}};
  return metadata;
}

}  // namespace detail

std::shared_ptr<const Plugin> elastic_beanstalk(ElasticBeanstalkOptions options) {
  return std::make_shared<ElasticBeanstalkPlugin>(std::move(options));
}

}  // namespace xray::plugins
