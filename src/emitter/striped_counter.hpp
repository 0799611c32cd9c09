// Internal: a counter that many threads add to without sharing a cache line.
//
// Each thread adds to one of kStripes cache-line-sized slots (chosen once per thread, round robin),
// so two request threads counting the same event (a document dropped at a full queue) do not
// bounce one line between their cores; reading sums the slots. Sums are exact once the adding
// threads are quiet, and never go backwards.
//
// Thread safety: thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace xray::detail {

class StripedCounter {
 public:
  static constexpr std::size_t kStripes = 16;

  void add(std::uint64_t n) noexcept {
    stripes_[stripe()].value.fetch_add(n, std::memory_order_relaxed);
  }

  std::uint64_t sum() const noexcept {
    std::uint64_t total = 0;
    for (const Stripe& s : stripes_) total += s.value.load(std::memory_order_relaxed);
    return total;
  }

 private:
  // 64 bytes: the cache line of the x86-64 and most ARM64 cores this runs on.
  struct alignas(64) Stripe {
    std::atomic<std::uint64_t> value{0};
  };

  // The calling thread's slot, the same for every counter.
  static std::size_t stripe() noexcept {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t index =
        next.fetch_add(1, std::memory_order_relaxed) % kStripes;
    return index;
  }

  std::array<Stripe, kStripes> stripes_{};
};

}  // namespace xray::detail
