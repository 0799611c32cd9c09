#include "forwarder.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "xray/daemon_address.hpp"

namespace xray::local {

std::unique_ptr<Forwarder> Forwarder::connect(const std::string& host, std::uint16_t port,
                                              std::string* error) {
  const std::string shown = to_string(Endpoint{host, port});
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* resolved = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &resolved); rc != 0) {
    if (error != nullptr) *error = "cannot forward to " + shown + ": " + ::gai_strerror(rc);
    return nullptr;
  }
  const int fd = ::socket(resolved->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const bool connected = fd >= 0 && ::connect(fd, resolved->ai_addr, resolved->ai_addrlen) == 0;
  const int connect_errno = errno;
  ::freeaddrinfo(resolved);
  if (!connected) {
    if (fd >= 0) ::close(fd);
    if (error != nullptr) *error = "cannot forward to " + shown + ": " + std::strerror(connect_errno);
    return nullptr;
  }
  return std::unique_ptr<Forwarder>(new Forwarder(fd, shown));
}

Forwarder::~Forwarder() { ::close(fd_); }

void Forwarder::send(std::string_view datagram) noexcept {
  if (::send(fd_, datagram.data(), datagram.size(), MSG_NOSIGNAL) ==
      static_cast<ssize_t>(datagram.size())) {
    sent_.fetch_add(1, std::memory_order_relaxed);
  } else {
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace xray::local
