#include "udp_receiver.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "xray/daemon_address.hpp"

namespace xray::local {
namespace {

constexpr int kBatch = 16;
constexpr std::size_t kBufferBytes = 65536;
constexpr int kWantedReceiveBuffer = 8 << 20;

}  // namespace

std::unique_ptr<UdpReceiver> UdpReceiver::bind(const std::string& host, std::uint16_t port,
                                               std::string* error) {
  const std::string shown = to_string(Endpoint{host, port});
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* resolved = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &resolved); rc != 0) {
    if (error != nullptr) *error = "cannot listen on udp " + shown + ": " + ::gai_strerror(rc);
    return nullptr;
  }
  const int fd = ::socket(resolved->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const bool ipv6 = resolved->ai_family == AF_INET6;
  int one = 1;
  if (fd >= 0 && ipv6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  const bool bound = fd >= 0 && ::bind(fd, resolved->ai_addr, resolved->ai_addrlen) == 0;
  const int bind_errno = errno;
  ::freeaddrinfo(resolved);
  if (!bound) {
    if (fd >= 0) ::close(fd);
    if (error != nullptr) *error = "cannot listen on udp " + shown + ": " + std::strerror(bind_errno);
    return nullptr;
  }
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
  const std::uint16_t bound_port =
      ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  std::unique_ptr<UdpReceiver> receiver(new UdpReceiver(fd, bound_port, ipv6));
  int wanted = kWantedReceiveBuffer;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &wanted, sizeof wanted) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &wanted, sizeof wanted);
  }
  ::setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);  // drop count with each datagram
  socklen_t size_length = sizeof receiver->receive_buffer_;
  ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiver->receive_buffer_, &size_length);
  return receiver;
}

UdpReceiver::UdpReceiver(int fd, std::uint16_t port, bool ipv6) : fd_(fd), port_(port), ipv6_(ipv6) {}

UdpReceiver::~UdpReceiver() { ::close(fd_); }

void UdpReceiver::run(const Handler& handler) {
  std::vector<char> buffers(kBatch * kBufferBytes);
  std::vector<iovec> iovecs(kBatch);
  std::vector<mmsghdr> messages(kBatch);
  constexpr std::size_t kControlBytes = CMSG_SPACE(sizeof(std::uint32_t));
  std::vector<char> controls(kBatch * kControlBytes);
  while (!stop_.load()) {
    pollfd pfd{fd_, POLLIN, 0};
    // Bounded wait, so stop() is seen within 100 ms.
    if (::poll(&pfd, 1, 100) <= 0) continue;
    for (int i = 0; i < kBatch; ++i) {
      iovecs[i] = iovec{buffers.data() + i * kBufferBytes, kBufferBytes};
      messages[i] = mmsghdr{};
      messages[i].msg_hdr.msg_iov = &iovecs[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_control = controls.data() + i * kControlBytes;
      messages[i].msg_hdr.msg_controllen = kControlBytes;
    }
    const int count = ::recvmmsg(fd_, messages.data(), kBatch, MSG_DONTWAIT, nullptr);
    for (int i = 0; i < count; ++i) {
      msghdr& header = messages[i].msg_hdr;
      for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
          std::uint32_t drops = 0;  // the socket's drop count so far (32 bits, wraps)
          std::memcpy(&drops, CMSG_DATA(c), sizeof drops);
          kernel_drops_.store(drops, std::memory_order_relaxed);
        }
      }
      const bool truncated = (header.msg_flags & MSG_TRUNC) != 0;
      handler(std::string_view(buffers.data() + i * kBufferBytes,
                               std::min<std::size_t>(messages[i].msg_len, kBufferBytes)),
              truncated);
    }
  }
}

}  // namespace xray::local
