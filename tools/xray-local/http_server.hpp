// http_server.hpp: the HTTP/1.1 listeners of xray-local (the web console and the sampling proxy),
// on one thread with Boost.Beast. This header keeps Asio out of every other file (toolchain notes:
// an Asio translation unit costs 20-40 s to compile).
//
//   xray::local::HttpServer server;
//   std::string error;
//   auto port = server.listen("127.0.0.1", 2080, [&](const HttpRequest& r) { return api.get(...); },
//                             &error);
//   if (!port) fail(error);  // "cannot listen on tcp 127.0.0.1:2080: Address already in use"
//   server.start();
//   ...
//   server.stop();  // also done by the destructor
//
// Requests are answered one at a time on the server's thread; keep-alive is honoured; bodies over
// 1 MiB, and connections idle for 30 s, are closed. A handler that throws gets a 500 reply.
//
// Thread safety: listen before start, from one thread; stop may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "console_api.hpp"

namespace xray::local {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query
  std::string body;
};

using HttpHandler = std::function<HttpReply(const HttpRequest&)>;

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on `host` (an IP literal or a name, resolved now) and `port` (0: any free port).
  // Returns the bound port, or nullopt with "cannot listen on tcp <address>: <reason>" in `error`.
  std::optional<std::uint16_t> listen(const std::string& host, std::uint16_t port,
                                      HttpHandler handler, std::string* error);

  // Starts the server's thread. Call once, after the listen calls.
  void start();
  // Stops accepting and serving, and joins the thread. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xray::local
