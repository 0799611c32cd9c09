// Internal: where the emitter thread's datagrams go. The emitter (udp_emitter.hpp) owns the queue,
// its thread, the size ladder and pacing; a transport owns the socket, the daemon's address
// resolution and the system calls, behind "be ready for this address" and "send these datagrams".
// The default is UdpTransport (udp_transport.hpp); tests may give the emitter another (an
// in-process receiver, or one that fails on purpose).
//
// Thread safety: a transport is created, used and destroyed on the emitter thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "xray/daemon_address.hpp"

namespace xray::detail {

// What one send call did with the datagrams it was given, from the front.
struct SendReport {
  std::size_t sent = 0;    // sent, in order
  std::size_t lost = 0;    // right after those: lost (counted by the emitter, logged here)
  bool too_large = false;  // the lost datagram was refused for its size (EMSGSIZE)
  bool stalled = false;    // the destination stayed unable to take more: the caller's later
                           // datagrams of this pass are lost too (counted by the emitter)
};

class DatagramTransport {
 public:
  virtual ~DatagramTransport() = default;
  // Called before each pass. Resolves and connects when the address changed, was never reached,
  // failed, or is due for re-resolution, unless a failed attempt's backoff is still running;
  // `give_up` ends a slow lookup early (shutdown). Returns whether datagrams can be sent now.
  virtual bool ready(const DaemonAddress& address,
                     const std::function<bool()>& give_up) noexcept = 0;
  // After ready() returned false: when trying again is worthwhile.
  virtual std::chrono::steady_clock::time_point retry_at() const noexcept = 0;
  // Sends datagrams[0, count) in order, without blocking for long (a full socket buffer is waited
  // on briefly). Returns at the first loss, or when all were sent; never sent + lost == 0 unless
  // count == 0. Datagrams are not modified.
  virtual SendReport send(const std::string* datagrams, std::size_t count) noexcept = 0;
};

// Makes the emitter thread's transport when the thread starts (again after fork()).
using TransportFactory = std::function<std::unique_ptr<DatagramTransport>()>;

}  // namespace xray::detail
