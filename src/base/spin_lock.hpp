// Internal: a lock for short critical sections that are rarely contended.
//
// An entity tree's lock is taken a few times per request, almost always by the one thread serving
// the request (another thread takes it only when a context was handed to it, or for the
// housekeeper's rare work). Uncontended, std::mutex costs two atomic read-modify-writes and two
// calls into libc; this lock costs one exchange and one store. Contended, it spins briefly and then
// yields, so a holder that was preempted gets the core back.
// Thread safety: thread-safe; not recursive. Meets Lockable (std::lock_guard, std::unique_lock).
#pragma once

#include <atomic>
#include <thread>

namespace xray::detail {

class SpinLock {
 public:
  SpinLock() noexcept = default;
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  void lock() noexcept {
    if (!locked_.exchange(true, std::memory_order_acquire)) return;
    lock_contended();
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  void lock_contended() noexcept {
    constexpr int kSpinsBeforeYield = 64;
    int spins = 0;
    for (;;) {
      // Wait on a plain load: the exchange is tried only when the lock looks free.
      while (locked_.load(std::memory_order_relaxed)) {
        if (spins < kSpinsBeforeYield) {
          ++spins;
          pause();
        } else {
          std::this_thread::yield();
        }
      }
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
    }
  }

  std::atomic<bool> locked_{false};
};

}  // namespace xray::detail
