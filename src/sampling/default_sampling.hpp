// Internal: the built-in local rule (spec §7.2): `fixed_target` per second, then `rate`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sampling/reservoir.hpp"
#include "xray/sampling.hpp"

namespace xray::detail {

// Uniform double in [0, 1) with full 53-bit precision, from the calling thread's generator (the
// one behind ids: xoshiro256** seeded from the OS CSPRNG, reseeded periodically and after fork).
double uniform_draw() noexcept;

// Wall-clock time for sampling decisions, from the coarse clock where there is one
// (CLOCK_REALTIME_COARSE: the time at the last scheduler tick, at most a few milliseconds behind,
// for a fraction of the cost of a precise read). Per-second reservoirs and quota TTLs need no more.
std::int64_t coarse_epoch_seconds() noexcept;  // whole seconds
double coarse_epoch_time() noexcept;           // seconds with their fraction

// Thread safety: thread-safe.
class FixedRateSampling final : public SamplingStrategy {
 public:
  using SecondsClock = std::function<std::int64_t()>;
  using Draw = std::function<double()>;

  FixedRateSampling(unsigned fixed_target, double rate, SecondsClock now = nullptr,
                    Draw draw = nullptr);

  SamplingDecision decide(const SamplingRequest& request) noexcept override;
  std::string describe() const override;

 private:
  Reservoir reservoir_;
  const unsigned fixed_target_;
  const double rate_;
  SecondsClock now_;
  Draw draw_;
};

}  // namespace xray::detail
