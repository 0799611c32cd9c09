// Internal: host name resolution that honours a deadline, for the SDK's background threads.
//
//   Resolution r = resolve_host("xray-daemon", deadline, [&] { return stopping.load(); });
//   if (r.ok()) connect_to(r.addresses.front());
//
// getaddrinfo(3) cannot be cancelled and may block for tens of seconds (a hung DNS server). A
// numeric address is converted on the calling thread; a name is looked up on a detached thread
// that owns its state, and the caller stops waiting at the deadline or as soon as `give_up`
// returns true (checked every few milliseconds). An abandoned lookup finishes on its own and frees
// its state; no thread of the SDK ever joins it, so neither shutdown nor exit waits for DNS. At
// most kMaxPendingLookups abandoned lookups exist at a time; past that, resolution fails at once
// rather than pile up threads.
//
// Thread safety: thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace xray::detail {

struct Resolution {
  std::vector<std::string> addresses;  // numeric IPv4 / IPv6 (no brackets), getaddrinfo's order
  std::string error;                   // set when `addresses` is empty
  bool ok() const noexcept { return !addresses.empty(); }
};

enum class SocketKind { kDatagram, kStream };

inline constexpr int kMaxPendingLookups = 4;

Resolution resolve_host(const std::string& host, SocketKind kind,
                        std::chrono::steady_clock::time_point deadline,
                        const std::function<bool()>& give_up = nullptr) noexcept;

// Lookups currently running on detached threads (abandoned or not); for tests.
int pending_lookups() noexcept;

// Tests only: replaces getaddrinfo for host names (numeric addresses never reach it), so a test
// can make a lookup hang, fail or change its answer on loopback. Null restores getaddrinfo.
using LookupFunction = Resolution (*)(const std::string& host, SocketKind kind);
void set_lookup_for_testing(LookupFunction lookup) noexcept;

}  // namespace xray::detail
