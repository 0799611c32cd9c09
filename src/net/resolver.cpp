#include "net/resolver.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace xray::detail {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(10);

// Trivially destructible, so detached lookups may still touch them while the process exits.
std::atomic<int> g_pending{0};
std::atomic<LookupFunction> g_lookup{nullptr};

struct Lookup {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;         // guarded
  Resolution result;         // guarded
};

int socket_type(SocketKind kind) { return kind == SocketKind::kDatagram ? SOCK_DGRAM : SOCK_STREAM; }

Resolution run_getaddrinfo(const std::string& host, SocketKind kind, int flags) {
  Resolution resolution;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socket_type(kind);
  hints.ai_flags = flags;
  addrinfo* list = nullptr;
  const int status = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (status != 0) {
    resolution.error = ::gai_strerror(status);
    return resolution;
  }
  for (const addrinfo* entry = list; entry != nullptr; entry = entry->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* address = nullptr;
    if (entry->ai_family == AF_INET) {
      address = &reinterpret_cast<const sockaddr_in*>(entry->ai_addr)->sin_addr;
    } else if (entry->ai_family == AF_INET6) {
      address = &reinterpret_cast<const sockaddr_in6*>(entry->ai_addr)->sin6_addr;
    } else {
      continue;
    }
    if (::inet_ntop(entry->ai_family, address, text, sizeof text) != nullptr) {
      resolution.addresses.emplace_back(text);
    }
  }
  ::freeaddrinfo(list);
  if (resolution.addresses.empty()) resolution.error = "no IPv4 or IPv6 address";
  return resolution;
}

}  // namespace

int pending_lookups() noexcept { return g_pending.load(std::memory_order_relaxed); }

void set_lookup_for_testing(LookupFunction lookup) noexcept {
  g_lookup.store(lookup, std::memory_order_relaxed);
}

Resolution resolve_host(const std::string& host, SocketKind kind,
                        std::chrono::steady_clock::time_point deadline,
                        const std::function<bool()>& give_up) noexcept {
  try {
    // Literal addresses never touch DNS: no thread, no wait.
    Resolution numeric = run_getaddrinfo(host, kind, AI_NUMERICHOST);
    if (numeric.ok()) return numeric;

    if (g_pending.fetch_add(1, std::memory_order_relaxed) >= kMaxPendingLookups) {
      g_pending.fetch_sub(1, std::memory_order_relaxed);
      Resolution busy;
      busy.error = "too many DNS lookups still pending";
      return busy;
    }
    auto lookup = std::make_shared<Lookup>();
    try {
      std::thread([lookup, host, kind, replaced = g_lookup.load(std::memory_order_relaxed)] {
        Resolution result = replaced ? replaced(host, kind) : run_getaddrinfo(host, kind, 0);
        {
          std::lock_guard<std::mutex> lock(lookup->mutex);
          lookup->result = std::move(result);
          lookup->done = true;
        }
        lookup->done_cv.notify_all();
        g_pending.fetch_sub(1, std::memory_order_relaxed);
      }).detach();
    } catch (...) {
      g_pending.fetch_sub(1, std::memory_order_relaxed);
      throw;
    }

    std::unique_lock<std::mutex> lock(lookup->mutex);
    for (;;) {
      if (lookup->done) return std::move(lookup->result);
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline || (give_up && give_up())) break;
      lookup->done_cv.wait_until(lock, std::min(deadline, now + kPollInterval));
    }
    Resolution late;
    late.error = "lookup of " + host + " did not finish in time";
    return late;
  } catch (const std::exception& e) {
    Resolution failed;
    failed.error = e.what();
    return failed;
  }
}

}  // namespace xray::detail
