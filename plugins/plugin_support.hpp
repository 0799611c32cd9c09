// Internal helpers shared by the plugins: bounded file reads, the host name, the container id from
// cgroups, and HTTP GETs within the detection deadline.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/json_fields.hpp"
#include "http/http_client.hpp"

namespace xray::plugins::detail {

// Metadata bodies and files are capped (spec §8.1).
inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;

// A detection failure: the recorder logs its message as the plugin's one line.
class DetectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The file's content (at most kMaxBodyBytes), or nullopt when it cannot be read.
std::optional<std::string> read_small_file(const std::string& path);
bool file_exists(const std::string& path);
std::string host_name();
// The thread's environment (base/environment.hpp: the recorder's during detection), with blank
// values as unset.
std::optional<std::string> environment(const char* name);

// The 64-hex container id: cgroup v1 (the last 64 characters of the first line longer than 64),
// else cgroup v2 (the first 64-hex token after /containers/ or /docker/ in mountinfo).
std::optional<std::string> container_id(const std::string& cgroup_path,
                                        const std::string& mountinfo_path);

// GET `url` (http or https) within the deadline; throws DetectionError unless the answer is a
// 200 with a JSON object body.
nlohmann::json get_json(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                        std::chrono::milliseconds connect_timeout,
                        std::chrono::steady_clock::time_point deadline,
                        const std::string& ca_file = "");

// A string field of `object`, or "" when absent or not a string (one definition for the SDK).
using xray::detail::string_field;

}  // namespace xray::plugins::detail
