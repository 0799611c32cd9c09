// Internal: the built-in local rule (spec §7.2): `fixed_target` per second, then `rate`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sampling/reservoir.hpp"
#include "xray/sampling.hpp"

namespace xray::detail {

// Uniform double in [0, 1) with full 53-bit precision, from a per-thread generator seeded from the
// OS CSPRNG.
double uniform_draw() noexcept;

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
