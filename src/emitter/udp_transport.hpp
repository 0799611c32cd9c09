// Internal: the emitter's default transport, a connected, non-blocking UDP socket to the daemon.
//
// Host names are resolved here, on the emitter thread, never on a request thread: at the first
// ready(), every kResolveInterval and after a send error (at most every kMinResolveInterval, with
// backoff while a name fails); a hung lookup is abandoned at kResolveTimeout or when the emitter
// gives up (net/resolver.hpp). Datagrams go out up to a batch per sendmmsg(2) call, or one send(2)
// each when plain sends are forced. EAGAIN waits for writability up to kWritableWait a few times
// and then counts the rest lost; ECONNREFUSED and other errors lose one datagram each (logged,
// rate-limited) and mark the socket for re-resolution; EMSGSIZE loses the datagram as too large
// and advises a smaller max datagram size.
//
// Thread safety: see DatagramTransport (emitter thread only); `force_plain_send` is read
// atomically.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include "emitter/datagram_transport.hpp"
#include "log/logger.hpp"

namespace xray::detail {

class UdpTransport final : public DatagramTransport {
 public:
  static constexpr std::chrono::seconds kResolveInterval{60};
  // Re-resolution after a send error or a failed lookup waits at least this long, doubling while
  // the name keeps failing, up to kMaxResolveBackoff.
  static constexpr std::chrono::seconds kMinResolveInterval{2};
  static constexpr std::chrono::seconds kMaxResolveBackoff{60};
  // How long one lookup is waited for (the lookup itself may go on, abandoned).
  static constexpr std::chrono::seconds kResolveTimeout{5};
  // Datagrams per sendmmsg call.
  static constexpr std::size_t kBatchSize = 32;
  // How long an EAGAIN waits for the socket to become writable, and how many times in a row.
  static constexpr std::chrono::milliseconds kWritableWait{50};
  static constexpr int kMaxEagainRetries = 3;

  // `force_plain_send` (may be null): when it reads true, one send(2) per datagram instead of
  // sendmmsg(2) (for platforms or tests without it). Must outlive the transport.
  UdpTransport(Logger& logger, const std::atomic<bool>* force_plain_send);
  ~UdpTransport() override;

  bool ready(const DaemonAddress& address, const std::function<bool()>& give_up) noexcept override;
  std::chrono::steady_clock::time_point retry_at() const noexcept override;
  SendReport send(const std::string* datagrams, std::size_t count) noexcept override;

 private:
  struct Socket;

  void connect(const DaemonAddress& address, const std::function<bool()>& give_up) noexcept;
  // Sends up to kBatchSize datagrams in one system call (or plain sends); -1 with `error` set.
  int send_some(const std::string* datagrams, std::size_t count, int& error) noexcept;
  SendReport lose(const std::string& datagram, std::size_t sent, std::size_t remaining,
                  int error) noexcept;

  Logger& logger_;
  const std::atomic<bool>* force_plain_send_;
  std::unique_ptr<Socket> socket_;
};

}  // namespace xray::detail
