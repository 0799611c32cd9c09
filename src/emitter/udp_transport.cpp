#include "emitter/udp_transport.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cerrno>
#include <optional>

#include "net/resolver.hpp"

namespace xray::detail {
namespace asio = boost::asio;
namespace {

bool is_would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

}  // namespace

struct UdpTransport::Socket {
  asio::io_context io;
  asio::ip::udp::socket socket{io};
  std::optional<DaemonAddress> connected_to;
  std::optional<DaemonAddress> resolved_for;  // the address the last attempt was for
  std::chrono::steady_clock::time_point resolved_at{};
  std::chrono::steady_clock::time_point next_attempt{};  // no resolution before this
  int failures = 0;     // consecutive failed resolutions, for the backoff
  bool broken = false;  // a send failed: re-resolve (no sooner than next_attempt)
  // sendmmsg's arguments, reused.
  std::array<mmsghdr, kBatchSize> headers{};
  std::array<iovec, kBatchSize> vectors{};
};

UdpTransport::UdpTransport(Logger& logger, const std::atomic<bool>* force_plain_send)
    : logger_(logger), force_plain_send_(force_plain_send), socket_(std::make_unique<Socket>()) {}

UdpTransport::~UdpTransport() = default;

bool UdpTransport::ready(const DaemonAddress& address,
                         const std::function<bool()>& give_up) noexcept {
  Socket& socket = *socket_;
  const auto now = std::chrono::steady_clock::now();
  const bool address_changed = !socket.resolved_for || !(*socket.resolved_for == address);
  const bool wanted = address_changed || !socket.connected_to || socket.broken ||
                      now - socket.resolved_at >= kResolveInterval;
  if (wanted && (address_changed || now >= socket.next_attempt)) connect(address, give_up);
  return socket.connected_to.has_value();
}

std::chrono::steady_clock::time_point UdpTransport::retry_at() const noexcept {
  return socket_->next_attempt;
}

void UdpTransport::connect(const DaemonAddress& address,
                           const std::function<bool()>& give_up) noexcept {
  Socket& socket = *socket_;
  const auto started = std::chrono::steady_clock::now();
  socket.resolved_for = address;
  socket.resolved_at = started;
  socket.broken = false;
  // A name that keeps failing is retried with backoff (kMinResolveInterval doubling up to
  // kMaxResolveBackoff), never once per pass: a dead DNS must not become a lookup storm.
  const auto backoff = std::min<std::chrono::steady_clock::duration>(
      kMinResolveInterval * (1 << std::min(socket.failures, 8)), kMaxResolveBackoff);
  Resolution resolution =
      resolve_host(address.udp.host, SocketKind::kDatagram, started + kResolveTimeout, give_up);
  boost::system::error_code ec;
  asio::ip::address ip;
  if (resolution.ok()) ip = asio::ip::make_address(resolution.addresses.front(), ec);
  if (!resolution.ok() || ec) {
    ++socket.failures;
    socket.next_attempt = std::chrono::steady_clock::now() + backoff;
    // Keep a connected socket: if the name stops resolving, the last address is the best guess.
    if (!socket.connected_to || !(socket.connected_to->udp == address.udp)) {
      socket.connected_to.reset();
    }
    logger_.log_limited(LogKind::kSendError, LogLevel::kWarn,
                        "cannot resolve the daemon address " + to_string(address.udp) + ": " +
                            (resolution.ok() ? ec.message() : resolution.error));
    return;
  }
  socket.failures = 0;
  socket.next_attempt = std::chrono::steady_clock::now() + kMinResolveInterval;
  asio::ip::udp::endpoint endpoint(ip, address.udp.port);
  socket.socket.close(ec);
  socket.socket.open(endpoint.protocol(), ec);
  if (!ec) socket.socket.non_blocking(true, ec);
  if (!ec) socket.socket.connect(endpoint, ec);
  if (ec) {
    socket.connected_to.reset();
    logger_.log_limited(
        LogKind::kSendError, LogLevel::kWarn,
        "cannot connect to the daemon at " + to_string(address.udp) + ": " + ec.message());
  } else {
    socket.connected_to = address;
  }
}

int UdpTransport::send_some(const std::string* datagrams, std::size_t count, int& error) noexcept {
  Socket& socket = *socket_;
  const int fd = socket.socket.native_handle();
  count = std::min(count, kBatchSize);
  const bool plain =
      force_plain_send_ != nullptr && force_plain_send_->load(std::memory_order_relaxed);
  if (plain) {
    // One datagram per call; stop at the first failure so it is handled like sendmmsg's.
    int sent = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (::send(fd, datagrams[i].data(), datagrams[i].size(), MSG_NOSIGNAL) < 0) {
        error = errno;
        return sent > 0 ? sent : -1;
      }
      ++sent;
    }
    return sent;
  }
  for (std::size_t i = 0; i < count; ++i) {
    // sendmmsg does not write through iov_base; the cast only satisfies its C signature.
    socket.vectors[i].iov_base = const_cast<char*>(datagrams[i].data());
    socket.vectors[i].iov_len = datagrams[i].size();
    socket.headers[i] = mmsghdr{};
    socket.headers[i].msg_hdr.msg_iov = &socket.vectors[i];
    socket.headers[i].msg_hdr.msg_iovlen = 1;
  }
  const int n = ::sendmmsg(fd, socket.headers.data(), static_cast<unsigned>(count), MSG_NOSIGNAL);
  if (n < 0) error = errno;
  return n;
}

SendReport UdpTransport::send(const std::string* datagrams, std::size_t count) noexcept {
  SendReport report;
  int eagain_retries = 0;
  while (report.sent < count) {
    int error = 0;
    const int n = send_some(datagrams + report.sent, count - report.sent, error);
    if (n > 0) {
      report.sent += static_cast<std::size_t>(n);
      eagain_retries = 0;
      continue;  // a partial sendmmsg: the rest goes in the next call
    }
    if (error == EINTR) continue;
    if (is_would_block(error)) {
      pollfd writable{socket_->socket.native_handle(), POLLOUT, 0};
      if (++eagain_retries <= kMaxEagainRetries &&
          ::poll(&writable, 1, static_cast<int>(kWritableWait.count())) > 0) {
        continue;
      }
    }
    return lose(datagrams[report.sent], report.sent, count - report.sent, error);
  }
  return report;
}

SendReport UdpTransport::lose(const std::string& datagram, std::size_t sent, std::size_t remaining,
                              int error) noexcept {
  SendReport report;
  report.sent = sent;
  const std::string message =
      boost::system::error_code(error, boost::system::system_category()).message();
  if (error == EMSGSIZE) {
    report.lost = 1;
    report.too_large = true;
    logger_.log_limited(LogKind::kTooLarge, LogLevel::kWarn,
                        "dropped a datagram of " + std::to_string(datagram.size()) +
                            " bytes: the OS refused it as too large (" + message +
                            "); lower the max datagram size");
    return report;
  }
  socket_->broken = true;  // re-resolve and reconnect before the next pass
  if (is_would_block(error)) {
    // The socket stayed full past the waits: the rest is lost, and the caller's later datagrams
    // would wait the same way.
    report.lost = remaining;
    report.stalled = true;
    logger_.log_limited(LogKind::kSendError, LogLevel::kWarn,
                        "cannot send to the daemon: the socket buffer stayed full; dropping the "
                        "rest of this batch");
    return report;
  }
  // ECONNREFUSED (a pending ICMP error), ENETUNREACH, ...: this datagram is lost, the rest retried.
  report.lost = 1;
  logger_.log_limited(LogKind::kSendError, LogLevel::kWarn,
                      "cannot send to the daemon: " + message);
  return report;
}

}  // namespace xray::detail
