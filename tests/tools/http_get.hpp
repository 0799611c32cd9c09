// Test helper: a blocking HTTP/1.1 exchange with a server on loopback (Connection: close), so the
// tests of xray-local need no HTTP client library.
//
//   auto reply = xray::local::testing::http("127.0.0.1", port, "GET", "/api/traces");
//   EXPECT_EQ(reply.status, 200);
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

namespace xray::local::testing {

struct HttpResult {
  int status = 0;  // 0: no answer
  std::string head;
  std::string body;

  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

inline HttpResult http(const std::string& ip, std::uint16_t port, const std::string& method,
                       const std::string& target, const std::string& body = "") {
  HttpResult result;
  const bool v6 = ip.find(':') != std::string::npos;
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return result;
  sockaddr_storage address{};
  socklen_t length = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&address);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    ::inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
    length = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&address);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
    length = sizeof *a;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    ::close(fd);
    return result;
  }
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + ip + "\r\n" +
                        "Connection: close\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string received;
  char chunk[16384];
  for (;;) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 10000) <= 0) break;
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    received.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto split = received.find("\r\n\r\n");
  if (split == std::string::npos || received.size() < 12) return result;
  result.head = received.substr(0, split);
  result.body = received.substr(split + 4);
  result.status = std::atoi(received.c_str() + 9);
  return result;
}

}  // namespace xray::local::testing
