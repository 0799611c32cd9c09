// Test fixture: a minimal HTTP/1.1 server on 127.0.0.1:0 for the SDK's own HTTP clients (metadata
// probes, the sampling proxy). Each connection carries one request; the handler decides the answer.
//
//   FakeHttpServer server([](const RecordedRequest& r) {
//     if (r.target == "/latest/api/token") return HttpReply{200, {}, "token"};
//     return HttpReply{404};
//   });
//   use(server.port());
//   EXPECT_EQ(server.requests().size(), 2u);
//
// A reply with `hang = true` accepts and reads the request but never answers (until the server is
// destroyed); `close_without_reply` closes the connection at once.
// Thread safety: thread-safe; the handler runs on the server's own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace xray::testing {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // First header with this name (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

struct HttpReply {
  HttpReply(int status = 200, std::vector<std::pair<std::string, std::string>> headers = {},
            std::string body = "")
      : status(status), headers(std::move(headers)), body(std::move(body)) {}
  static HttpReply hang_up() {
    HttpReply reply;
    reply.hang = true;
    return reply;
  }
  static HttpReply close_at_once() {
    HttpReply reply;
    reply.close_without_reply = true;
    return reply;
  }

  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool hang = false;
  bool close_without_reply = false;
};

class FakeHttpServer {
 public:
  using Handler = std::function<HttpReply(const RecordedRequest&)>;

  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_handler(Handler handler);
  std::vector<RecordedRequest> requests() const;
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const;

 private:
  void run();
  void serve(int connection);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  Handler handler_;                        // guarded by mutex_
  std::vector<RecordedRequest> requests_;  // guarded by mutex_
  std::vector<int> hung_;                  // guarded by mutex_: connections held open
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace xray::testing
