// Internal: a token bucket that paces datagrams on the emitter thread.
//
// Tokens accrue at `rate` per second up to `burst`; each datagram costs one. Time is passed in by
// the caller (`now`), so the bucket is deterministic under test. A rate of 0 (or less) disables
// pacing: `take` grants everything at once.
//
// Example:
//   TokenBucket bucket(5000, 100, now);
//   std::size_t n = bucket.take(32, 8, now);            // 0..32 granted
//   if (n == 0) sleep_for(bucket.time_until(8, now));   // then retry
//
// Thread safety: thread-compatible (owned by one emitter thread).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace xray::detail {

class TokenBucket {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  TokenBucket() = default;
  TokenBucket(double rate, double burst, TimePoint now) { configure(rate, burst, now); }

  // Changes the rate and capacity; the bucket starts full so a fresh emitter sends its first burst
  // at once.
  void configure(double rate, double burst, TimePoint now) {
    rate_ = rate;
    burst_ = std::max(burst, 1.0);
    tokens_ = burst_;
    last_ = now;
  }

  bool unlimited() const { return rate_ <= 0; }

  // Grants up to `wanted` tokens, but only once at least min(wanted, `group`) are available, so a
  // paced sender wakes once per group rather than once per datagram. Returns the number granted.
  std::size_t take(std::size_t wanted, std::size_t group, TimePoint now) {
    if (unlimited()) return wanted;
    refill(now);
    double need = static_cast<double>(std::min({wanted, group, static_cast<std::size_t>(burst_)}));
    if (tokens_ < need) return 0;
    auto granted = std::min(wanted, static_cast<std::size_t>(std::floor(tokens_)));
    tokens_ -= static_cast<double>(granted);
    return granted;
  }

  // How long until `take(wanted, group, ...)` would grant something.
  std::chrono::nanoseconds time_until(std::size_t wanted, std::size_t group, TimePoint now) {
    if (unlimited()) return std::chrono::nanoseconds(0);
    refill(now);
    double need = static_cast<double>(std::min({wanted, group, static_cast<std::size_t>(burst_)}));
    if (tokens_ >= need) return std::chrono::nanoseconds(0);
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::ceil((need - tokens_) / rate_ * 1e9)));
  }

 private:
  void refill(TimePoint now) {
    if (now <= last_) return;
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    last_ = now;
  }

  double rate_ = 0;
  double burst_ = 1;
  double tokens_ = 1;
  TimePoint last_{};
};

}  // namespace xray::detail
