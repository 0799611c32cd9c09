// EC2: the instance identity document through IMDSv2 (token first), falling back to IMDSv1.
#include "plugins/plugin_parsers.hpp"

#include "base/ascii.hpp"
#include "plugins/plugin_support.hpp"
#include "xray/plugins.hpp"

namespace xray::plugins {
namespace {

constexpr const char* kDefaultEndpoint = "169.254.169.254";
constexpr const char* kIdentityPath = "/latest/dynamic/instance-identity/document";

class Ec2Plugin final : public Plugin {
 public:
  explicit Ec2Plugin(Ec2Options options) : options_(std::move(options)) {}

  std::string_view name() const noexcept override { return "EC2Plugin"; }

  std::optional<PluginMetadata> detect(std::chrono::steady_clock::time_point deadline) const override {
    auto disabled = detail::environment("AWS_EC2_METADATA_DISABLED");
    if (disabled && xray::detail::iequals(*disabled, "true")) {
      return std::nullopt;
    }
    std::string base = "http://" + endpoint();
    std::vector<std::pair<std::string, std::string>> headers;
    if (auto token = fetch_token(base, deadline)) {
      headers.emplace_back("X-aws-ec2-metadata-token", *token);
    }
    nlohmann::json document = detail::get_json(base + kIdentityPath, headers,
                                               options_.connect_timeout, deadline);
    return detail::ec2_metadata(document);
  }

 private:
  // IMDS_ENDPOINT is `host[:port]`; a leading http:// is tolerated.
  std::string endpoint() const {
    std::string value = options_.endpoint;
    if (value.empty()) value = detail::environment("IMDS_ENDPOINT").value_or(kDefaultEndpoint);
    if (value.rfind("http://", 0) == 0) value.erase(0, 7);
    while (!value.empty() && value.back() == '/') value.pop_back();
    return value;
  }

  // IMDSv2 session token; nullopt when refused or unreachable (then IMDSv1 is tried).
  std::optional<std::string> fetch_token(const std::string& base,
                                         std::chrono::steady_clock::time_point deadline) const {
    auto parsed = xray::detail::parse_http_url(base + "/latest/api/token");
    if (!parsed) throw detail::DetectionError("invalid IMDS endpoint: " + base);
    xray::detail::HttpRequest request;
    request.method = "PUT";
    request.host = parsed->host;
    request.port = parsed->port;
    request.target = parsed->target;
    request.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "60"}};
    xray::detail::HttpDeadlines deadlines;
    deadlines.connect = options_.connect_timeout;
    deadlines.deadline = deadline;
    deadlines.max_body_bytes = 4096;
    auto result = xray::detail::http_request(request, deadlines);
    if (!result.ok()) {
      // Nothing listens (off EC2): IMDSv1 would fail the same way, so stop here.
      if (result.error.rfind("connect", 0) == 0 || result.error.rfind("resolve", 0) == 0) {
        throw detail::DetectionError("IMDS unreachable at " + base + ": " + result.error);
      }
      return std::nullopt;
    }
    return detail::imds_token(result.response->status, result.response->body);
  }

  Ec2Options options_;
};

}  // namespace

namespace detail {

std::optional<std::string> imds_token(int status, std::string_view body) {
  // A token goes back out as a header value: anything but visible ASCII could split the request.
  if (status != 200 || !is_header_safe_token(body)) return std::nullopt;
  return std::string(body);
}

PluginMetadata ec2_metadata(const nlohmann::json& identity) {
  std::string instance_id = string_field(identity, "instanceId");
  if (instance_id.empty()) throw DetectionError("identity document without instanceId");
  nlohmann::json ec2 = {{"instance_id", instance_id}};
  for (auto [from, to] : {std::pair{"instanceType", "instance_size"}, std::pair{"imageId", "ami_id"},
                          std::pair{"availabilityZone", "availability_zone"}}) {
    std::string value = string_field(identity, from);
    if (!value.empty()) ec2[to] = value;
  }
  PluginMetadata metadata;
  metadata.origin = "AWS::EC2::Instance";
  metadata.origin_precedence = origin_rank(metadata.origin);
  metadata.aws = {{"ec2", std::move(ec2)}};
  return metadata;
}

}  // namespace detail

std::shared_ptr<const Plugin> ec2(Ec2Options options) {
  return std::make_shared<Ec2Plugin>(std::move(options));
}

}  // namespace xray::plugins
