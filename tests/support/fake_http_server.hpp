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
//
// Hostile replies, for fault-injection tests:
//   HttpReply::trickle(1, HttpReply(200, {}, body))  // the whole response at 1 byte per second
//   HttpReply::large(50 << 20)                        // "Content-Length: 52428800", 50 MB of filler
//   HttpReply::large(10 << 20, false, "{")            // no Content-Length: "{" + filler until close
// A large body is generated chunk by chunk as it is written, never held in memory. Every reply
// stops being written as soon as the client closes (or half-closes) its connection, and the next
// connection is served, or when the server is being destroyed, so the destructor still returns
// within ~10 ms. `bytes_sent()` counts what was actually written, so a test can show that a client
// stopped reading at its cap. Connections are served one at a time, in accept order.
// Thread safety: thread-safe; the handler runs on the server's own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
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
  // `reply`, written at `bytes_per_second` (status line and headers included).
  static HttpReply trickle(std::size_t bytes_per_second, HttpReply reply = HttpReply()) {
    reply.trickle_bytes_per_second = bytes_per_second;
    return reply;
  }
  // A 200 whose body is `prefix` then filler up to `bytes` in all; with `declare_length` false
  // there is no Content-Length and the body ends when the connection closes.
  static HttpReply large(std::uint64_t bytes, bool declare_length = true, std::string prefix = "") {
    HttpReply reply(200, {}, std::move(prefix));
    reply.large_body_bytes = bytes;
    reply.declare_length = declare_length;
    return reply;
  }

  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool hang = false;
  bool close_without_reply = false;
  // 0: the response is written at once; otherwise at this many bytes per second.
  std::size_t trickle_bytes_per_second = 0;
  // 0: the body is `body`; otherwise `body` then `fill` bytes up to this many bytes in all.
  std::uint64_t large_body_bytes = 0;
  char fill = ' ';
  // false: no Content-Length header; the end of the body is the end of the connection.
  bool declare_length = true;
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
  // Response bytes (status lines, headers, bodies) written to clients since construction.
  std::uint64_t bytes_sent() const noexcept { return bytes_sent_.load(std::memory_order_relaxed); }

 private:
  void run();
  void serve(int connection);
  void write_reply(int connection, const HttpReply& reply);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  Handler handler_;                        // guarded by mutex_
  std::vector<RecordedRequest> requests_;  // guarded by mutex_
  std::vector<int> hung_;                  // guarded by mutex_: connections held open
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> bytes_sent_{0};
  std::thread thread_;
};

}  // namespace xray::testing
