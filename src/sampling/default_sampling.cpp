#include "sampling/default_sampling.hpp"

#include <time.h>

#include "model/ids.hpp"

namespace xray {
namespace detail {

namespace {

// The coarse wall clock where there is one, else the precise one.
timespec coarse_now() noexcept {
  timespec now{};
#ifdef CLOCK_REALTIME_COARSE
  if (clock_gettime(CLOCK_REALTIME_COARSE, &now) == 0) return now;
#endif
  clock_gettime(CLOCK_REALTIME, &now);
  return now;
}

}  // namespace

double uniform_draw() noexcept {
  // The ids' generator: every bit of xoshiro256** is usable; the top 53 make the double.
  return static_cast<double>(random_u64() >> 11) * 0x1.0p-53;
}

std::int64_t coarse_epoch_seconds() noexcept { return static_cast<std::int64_t>(coarse_now().tv_sec); }

double coarse_epoch_time() noexcept {
  const timespec now = coarse_now();
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

FixedRateSampling::FixedRateSampling(unsigned fixed_target, double rate, SecondsClock now, Draw draw)
    : reservoir_(fixed_target),
      fixed_target_(fixed_target),
      rate_(rate),
      now_(std::move(now)),
      draw_(std::move(draw)) {}

SamplingDecision FixedRateSampling::decide(const SamplingRequest&) noexcept {
  const std::int64_t now = now_ ? now_() : coarse_epoch_seconds();
  SamplingDecision decision;
  decision.sampled = reservoir_.take(now) || (draw_ ? draw_() : uniform_draw()) < rate_;
  return decision;
}

std::string FixedRateSampling::describe() const {
  return "local rule: " + std::to_string(fixed_target_) + " per second, then rate " +
         std::to_string(rate_);
}

}  // namespace detail

std::shared_ptr<SamplingStrategy> make_default_sampling(unsigned fixed_target, double rate) {
  return std::make_shared<detail::FixedRateSampling>(fixed_target, rate);
}

}  // namespace xray
