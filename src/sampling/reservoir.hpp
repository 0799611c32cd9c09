// Internal: a per-second reservoir: at most `fixed_target` takes per wall-clock second.
//
// Lock-free: the current second and the count taken in it share one 64-bit atomic, so a new second
// resets the count in the same compare-and-swap that takes from it. Time is passed in (`take(now)`).
// Thread safety: thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace xray::detail {

class Reservoir {
 public:
  // Targets above 2^24 - 1 per second are clamped: the count shares the atomic with the second.
  explicit Reservoir(std::uint32_t fixed_target) noexcept
      : fixed_target_(fixed_target < kMaxTarget ? fixed_target : kMaxTarget) {}

  // Takes one from the reservoir for second `now_seconds`; false when this second's target is spent.
  bool take(std::int64_t now_seconds) noexcept {
    if (fixed_target_ == 0) return false;
    const auto second = static_cast<std::uint64_t>(now_seconds) & kSecondMask;
    std::uint64_t state = state_.load(std::memory_order_relaxed);
    for (;;) {
      std::uint64_t state_second = state & kSecondMask;
      std::uint64_t taken = state >> kSecondBits;
      if (state_second != second) taken = 0;
      if (taken >= fixed_target_) return false;
      std::uint64_t next = ((taken + 1) << kSecondBits) | second;
      if (state_.compare_exchange_weak(state, next, std::memory_order_relaxed)) return true;
    }
  }

 private:
  static constexpr int kSecondBits = 40;  // epoch seconds fit in 40 bits until year 36812
  static constexpr std::uint64_t kSecondMask = (std::uint64_t{1} << kSecondBits) - 1;
  static constexpr std::uint32_t kMaxTarget = (std::uint32_t{1} << (64 - kSecondBits)) - 1;

  const std::uint32_t fixed_target_;
  std::atomic<std::uint64_t> state_{0};  // (taken << 40) | second
};

}  // namespace xray::detail
