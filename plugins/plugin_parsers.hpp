// Internal: what each plugin makes of the answers and files it reads, separate from fetching them,
// so tests and the fuzz targets (fuzz/*_fuzz.cpp) drive the parsing without servers or files.
//
//   auto identity = parse_json_object(body);                  // nullopt: not a JSON object
//   PluginMetadata ec2 = ec2_metadata(*identity);             // throws DetectionError
//
// Every function takes untrusted input: it never crashes, never throws anything but
// DetectionError, and copies strings through unchanged (the document writer escapes them and
// replaces invalid UTF-8). Values that go back onto the wire in an HTTP header (the IMDSv2 token,
// the service-account bearer token) are accepted only as visible ASCII.
//
// Thread safety: free functions on values; safe to call concurrently.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "xray/plugin.hpp"

namespace xray::plugins::detail {

// The body as a JSON object; nullopt when it is not JSON or not an object. Never throws.
std::optional<nlohmann::json> parse_json_object(std::string_view body) noexcept;

// Whether `value` may be sent as an HTTP header value we built: non-empty, visible ASCII
// (0x21-0x7E) only, so it can neither split the request nor smuggle a header.
bool is_header_safe_token(std::string_view value) noexcept;

// The 64-hex container id from the contents of /proc/self/cgroup and /proc/self/mountinfo (either
// may be absent); see container_id() in plugin_support.hpp for the rules.
std::optional<std::string> container_id_from(std::optional<std::string_view> cgroup,
                                             std::optional<std::string_view> mountinfo);

// EC2 (spec §8.2). The IMDSv2 token from the answer to PUT /latest/api/token; nullopt (IMDSv1
// follows) unless a 200 with a header-safe body.
std::optional<std::string> imds_token(int status, std::string_view body);
// aws.ec2 from the instance identity document. Throws DetectionError without instanceId.
PluginMetadata ec2_metadata(const nlohmann::json& identity);

// ECS (spec §8.3). aws.ecs (and cloudwatch_logs) from the container document, the task document
// (null when it could not be read), the host name (may be empty) and, when the container document
// has no DockerId, `cgroup_container_id()`.
PluginMetadata ecs_metadata(const nlohmann::json& container, const nlohmann::json* task,
                            const std::string& host,
                            const std::function<std::optional<std::string>()>& cgroup_container_id);

// EKS (spec §8.4). The bearer token from the service-account token file (trailing CR/LF removed);
// nullopt when it is not header-safe.
std::optional<std::string> bearer_token(std::string_view token_file);
// cluster.name from the amazon-cloudwatch/cluster-info config map; "" when absent.
std::string eks_cluster_name(const nlohmann::json& config_map);
// aws.eks (and cloudwatch_logs) from the pod name, container id and cluster name (each may be
// empty).
PluginMetadata eks_metadata(const std::string& pod, const std::string& container_id,
                            const std::string& cluster);

// Elastic Beanstalk (spec §8.5). aws.elastic_beanstalk from the environment file's content;
// `path` names the file in errors. Throws DetectionError when it is not a JSON object or has none
// of the expected keys.
PluginMetadata elastic_beanstalk_metadata(std::string_view content, const std::string& path);

}  // namespace xray::plugins::detail
