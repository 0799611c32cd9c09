#include "base/fork.hpp"

#include <pthread.h>

#include <atomic>

namespace xray::detail {
namespace {

std::atomic<unsigned> g_generation{0};

void on_fork_child() { g_generation.fetch_add(1, std::memory_order_relaxed); }

// At load time, before the application can fork: a count that starts late would miss a fork.
const int g_registered = pthread_atfork(nullptr, nullptr, &on_fork_child);

}  // namespace

unsigned fork_generation() noexcept {
  (void)g_registered;
  return g_generation.load(std::memory_order_relaxed);
}

}  // namespace xray::detail
