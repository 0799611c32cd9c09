#include "plugins/plugin_support.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "base/environment.hpp"
#include "plugins/plugin_parsers.hpp"

namespace xray::plugins::detail {
namespace {

bool is_hex64(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::string content(kMaxBodyBytes, '\0');
  file.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<std::size_t>(file.gcount()));
  return content;
}

bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

std::optional<std::string> environment(const char* name) {
  const char* value = xray::detail::thread_getenv(name);
  if (value == nullptr) return std::nullopt;
  std::string text(value);
  if (text.find_first_not_of(" \t") == std::string::npos) return std::nullopt;
  return text;
}

std::optional<std::string> container_id_from(std::optional<std::string_view> cgroup,
                                             std::optional<std::string_view> mountinfo) {
  if (cgroup) {
    std::string_view rest = *cgroup;
    while (!rest.empty()) {
      std::size_t end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      if (line.size() > 64) {
        std::string_view candidate = line.substr(line.size() - 64);
        if (is_hex64(candidate)) return std::string(candidate);
        break;  // only the first long line counts (v1 layout)
      }
    }
  }
  if (mountinfo) {
    for (std::string_view marker : {"/containers/", "/docker/"}) {
      std::size_t pos = 0;
      while ((pos = mountinfo->find(marker, pos)) != std::string_view::npos) {
        pos += marker.size();
        std::string_view candidate = mountinfo->substr(pos, 64);
        if (is_hex64(candidate)) return std::string(candidate);
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> container_id(const std::string& cgroup_path,
                                        const std::string& mountinfo_path) {
  auto cgroup = read_small_file(cgroup_path);
  auto mountinfo = read_small_file(mountinfo_path);
  return container_id_from(cgroup ? std::optional<std::string_view>(*cgroup) : std::nullopt,
                           mountinfo ? std::optional<std::string_view>(*mountinfo) : std::nullopt);
}

std::optional<nlohmann::json> parse_json_object(std::string_view body) noexcept {
  try {
    auto document = nlohmann::json::parse(body, nullptr, false);
    if (!document.is_object()) return std::nullopt;
    return document;
  } catch (...) {  // out of memory
    return std::nullopt;
  }
}

bool is_header_safe_token(std::string_view value) noexcept {
  if (value.empty()) return false;
  for (char c : value) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

nlohmann::json get_json(const std::string& url,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        std::chrono::milliseconds connect_timeout,
                        std::chrono::steady_clock::time_point deadline, const std::string& ca_file) {
  auto parsed = xray::detail::parse_http_url(url);
  if (!parsed) throw DetectionError("not an http(s) URL: " + url);
  xray::detail::HttpRequest request;
  request.host = parsed->host;
  request.port = parsed->port;
  request.target = parsed->target;
  request.headers = headers;
  request.tls = parsed->tls;
  request.ca_file = ca_file;
  xray::detail::HttpDeadlines deadlines;
  deadlines.connect = connect_timeout;
  deadlines.deadline = deadline;
  deadlines.max_body_bytes = kMaxBodyBytes;
  auto result = xray::detail::http_request(request, deadlines);
  if (!result.ok()) throw DetectionError("GET " + url + ": " + result.error);
  if (result.response->status != 200) {
    throw DetectionError("GET " + url + ": HTTP " + std::to_string(result.response->status));
  }
  auto body = parse_json_object(result.response->body);
  if (!body) throw DetectionError("GET " + url + ": the body is not a JSON object");
  return std::move(*body);
}

}  // namespace xray::plugins::detail
