#include "support/slow_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

namespace xray::testing {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::system_category(), what);
}

}  // namespace

SlowReceiver::SlowReceiver(bool parse) : parse_(parse) {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw_errno("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    int error = errno;
    ::close(fd_);
    throw std::system_error(error, std::system_category(), "bind");
  }
  port_ = ntohs(address.sin_port);
  length = sizeof(receive_buffer_bytes_);
  ::getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes_, &length);
  timeval wake{0, 10 * 1000};  // blocking reads that still notice stop_ within 10 ms
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wake, sizeof wake);
  thread_ = std::thread(&SlowReceiver::run, this);
}

SlowReceiver::~SlowReceiver() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
}

std::string SlowReceiver::address() const { return "127.0.0.1:" + std::to_string(port_); }

std::uint64_t SlowReceiver::wait_for_quiet(std::uint64_t count, std::chrono::milliseconds timeout,
                                           std::chrono::milliseconds quiet) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto last_change = std::chrono::steady_clock::now();
  std::uint64_t last = datagrams();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto now = std::chrono::steady_clock::now();
    std::uint64_t seen = datagrams();
    if (seen >= count || now >= deadline) return seen;
    if (seen != last) {
      last = seen;
      last_change = now;
    } else if (now - last_change >= quiet) {
      return seen;
    }
  }
}

void SlowReceiver::run() noexcept {
  // As the daemon's reader does: one thread, one blocking read per datagram into a fixed buffer,
  // the datagram copied out before the next read (the daemon hands it to its processor).
  std::vector<char> buffer(65536);
  std::string copy;
  while (!stop_.load(std::memory_order_relaxed)) {
    ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);  // SO_RCVTIMEO: wakes to check stop_
    if (n < 0) continue;
    copy.assign(buffer.data(), static_cast<std::size_t>(n));
    if (parse_) {
      std::string_view datagram(copy);
      auto newline = datagram.find('\n');
      bool ok = newline != std::string_view::npos &&
                nlohmann::json::accept(datagram.substr(newline + 1));
      if (!ok) parse_failures_.fetch_add(1, std::memory_order_relaxed);
    }
    bytes_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
    datagrams_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace xray::testing
