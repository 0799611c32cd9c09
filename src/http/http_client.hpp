// Internal: a small blocking HTTP/1.1 client with hard deadlines, for the SDK's own background
// threads (plugin probes, the centralized sampling poller). Never used on a request thread, never
// traced.
//
//   HttpRequest request{"PUT", "169.254.169.254", 80, "/latest/api/token"};
//   request.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "60");
//   HttpResult result = http_request(request, {std::chrono::milliseconds(100), deadline});
//   if (result.ok() && result.response->status == 200) use(result.response->body);
//
// Every call finishes by its deadline (connect has its own, shorter one) or soon after its cancel
// flag is raised, DNS included (net/resolver.hpp); bodies are capped, and errors are returned as
// text, never thrown. No TLS state is created for plain http. TLS (https) verifies the peer against a CA file.
//
// Thread safety: the free function is thread-safe; each call uses its own I/O context.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace xray::detail {

struct HttpRequest {
  std::string method = "GET";
  std::string host;  // name or address; IPv6 without brackets
  std::uint16_t port = 80;
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool tls = false;
  std::string ca_file;  // with tls: the CA bundle to verify the server against (required)
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // First header with this name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const noexcept;
};

struct HttpResult {
  std::optional<HttpResponse> response;
  std::string error;  // set when there is no response
  bool ok() const noexcept { return response.has_value(); }
};

struct HttpDeadlines {
  std::chrono::milliseconds connect{100};
  std::chrono::steady_clock::time_point deadline;  // for the whole exchange, DNS included
  std::size_t max_body_bytes = 64 * 1024;
  // When set, the exchange is abandoned within a few milliseconds of it becoming true (shutdown).
  const std::atomic<bool>* cancel = nullptr;
};

HttpResult http_request(const HttpRequest& request, const HttpDeadlines& deadlines) noexcept;

// While alive, every exchange made on this thread is also cancelled by `flag` (plugin detection:
// a Plugin receives only a deadline, yet shutdown must not wait for, or race with, its probes).
class ThreadCancelScope {
 public:
  explicit ThreadCancelScope(const std::atomic<bool>* flag) noexcept;
  ~ThreadCancelScope();
  ThreadCancelScope(const ThreadCancelScope&) = delete;
  ThreadCancelScope& operator=(const ThreadCancelScope&) = delete;

 private:
  const std::atomic<bool>* previous_;
};

// Parses "http://host[:port][/path]" (and https). Returns false when it is not such a URL.
struct ParsedUrl {
  bool tls = false;
  std::string host;
  std::uint16_t port = 80;
  std::string target = "/";
};
std::optional<ParsedUrl> parse_http_url(std::string_view url) noexcept;

}  // namespace xray::detail
