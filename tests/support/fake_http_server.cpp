#include "support/fake_http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace xray::testing {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) text.pop_back();
  std::size_t start = text.find_first_not_of(' ');
  return start == std::string::npos ? std::string() : text.substr(start);
}

// Reads until the headers are complete and Content-Length bytes of body arrived (1 s at most).
bool read_request(int fd, RecordedRequest& request) {
  std::string data;
  char chunk[4096];
  std::size_t header_end = std::string::npos;
  std::size_t body_length = 0;
  for (;;) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 1000) <= 0) return false;
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    data.append(chunk, static_cast<std::size_t>(n));
    if (header_end == std::string::npos) {
      header_end = data.find("\r\n\r\n");
      if (header_end == std::string::npos) continue;
      std::size_t line_end = data.find("\r\n");
      std::string first = data.substr(0, line_end);
      std::size_t space = first.find(' ');
      request.method = first.substr(0, space);
      request.target = first.substr(space + 1, first.rfind(' ') - space - 1);
      std::size_t pos = line_end + 2;
      while (pos < header_end) {
        std::size_t end = data.find("\r\n", pos);
        std::string line = data.substr(pos, end - pos);
        std::size_t colon = line.find(':');
        if (colon != std::string::npos) {
          request.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
        }
        pos = end + 2;
      }
      std::string length = request.header("Content-Length");
      body_length = length.empty() ? 0 : std::stoul(length);
    }
    if (data.size() >= header_end + 4 + body_length) {
      request.body = data.substr(header_end + 4, body_length);
      return true;
    }
  }
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    default: return "Status";
  }
}

}  // namespace

std::string RecordedRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return "";
}

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int error = errno;
    ::close(listen_fd_);
    throw std::system_error(error, std::generic_category(), "bind/listen");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread(&FakeHttpServer::run, this);
}

FakeHttpServer::~FakeHttpServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
  for (int fd : hung_) ::close(fd);
}

void FakeHttpServer::set_handler(Handler handler) {
  std::lock_guard<std::mutex> lock(mutex_);
  handler_ = std::move(handler);
}

std::vector<RecordedRequest> FakeHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

bool FakeHttpServer::wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
}

void FakeHttpServer::run() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 10) <= 0) continue;
    int connection = ::accept(listen_fd_, nullptr, nullptr);
    if (connection >= 0) serve(connection);
  }
}

void FakeHttpServer::serve(int connection) {
  RecordedRequest request;
  if (!read_request(connection, request)) {
    ::close(connection);
    return;
  }
  Handler handler;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(request);
    handler = handler_;
  }
  arrived_.notify_all();
  HttpReply reply = handler ? handler(request) : HttpReply(404);
  if (reply.hang) {
    std::lock_guard<std::mutex> lock(mutex_);
    hung_.push_back(connection);  // never answered; closed by the destructor
    return;
  }
  if (!reply.close_without_reply) write_reply(connection, reply);
  ::close(connection);
}

void FakeHttpServer::write_reply(int connection, const HttpReply& reply) {
  std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason(reply.status) + "\r\n";
  for (const auto& [name, value] : reply.headers) head += name + ": " + value + "\r\n";
  const std::uint64_t body_bytes =
      reply.large_body_bytes != 0 ? std::max<std::uint64_t>(reply.large_body_bytes, reply.body.size())
                                  : reply.body.size();
  if (reply.large_body_bytes == 0 || reply.declare_length) {
    head += "Content-Length: " + std::to_string(body_bytes) + "\r\n";
  }
  head += "Connection: close\r\n\r\n";
  head += reply.body;  // the literal part; filler (if any) is generated below
  const std::uint64_t total = head.size() - reply.body.size() + body_bytes;

  // Writes in chunks of at most 64 KB (a paced reply: what its rate allows so far), watching the
  // connection in 10 ms slices so that a closed client or a stopping server ends the reply.
  constexpr std::size_t kChunk = 64 * 1024;
  std::string chunk;
  std::uint64_t sent = 0;
  const auto start = std::chrono::steady_clock::now();
  while (sent < total && !stop_.load(std::memory_order_relaxed)) {
    std::uint64_t allowed = total;
    if (reply.trickle_bytes_per_second != 0) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      allowed = std::min<std::uint64_t>(
          total, 1 + static_cast<std::uint64_t>(elapsed * static_cast<double>(reply.trickle_bytes_per_second)));
    }
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(allowed - sent, kChunk));
    pollfd pfd{connection, static_cast<short>(POLLRDHUP | (want > 0 ? POLLOUT : 0)), 0};
    if (::poll(&pfd, 1, 10) < 0 && errno != EINTR) return;
    if ((pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) return;  // the client is gone
    if (want == 0 || (pfd.revents & POLLOUT) == 0) continue;
    chunk.clear();
    if (sent < head.size()) {
      const auto from = static_cast<std::size_t>(sent);
      chunk.append(head, from, std::min(want, head.size() - from));
    }
    chunk.append(want - chunk.size(), reply.fill);
    ssize_t n = ::send(connection, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n <= 0) return;
    sent += static_cast<std::uint64_t>(n);
    bytes_sent_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
  }
}

}  // namespace xray::testing
