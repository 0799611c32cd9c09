#include "sampling/default_sampling.hpp"

#include <time.h>

#include <chrono>

#include "base/xoshiro256.hpp"
#include "model/ids.hpp"

namespace xray {
namespace detail {

namespace {

void seed(std::uint64_t (&state)[4]) noexcept {
  random_bytes(state, sizeof state);
  if ((state[0] | state[1] | state[2] | state[3]) == 0) state[0] = 0x9E3779B97F4A7C15ull;
}

}  // namespace

double uniform_draw() noexcept {
  // Plain thread-local words (constant-initialized: no guard on each access), seeded at first use.
  thread_local std::uint64_t state[4] = {0, 0, 0, 0};
  if ((state[0] | state[1] | state[2] | state[3]) == 0) seed(state);
  // Every bit of xoshiro256** is usable; the top 53 make the double.
  return static_cast<double>(xoshiro256_next(state) >> 11) * 0x1.0p-53;
}

std::int64_t coarse_epoch_seconds() noexcept {
#ifdef CLOCK_REALTIME_COARSE
  timespec now;
  if (clock_gettime(CLOCK_REALTIME_COARSE, &now) == 0) return static_cast<std::int64_t>(now.tv_sec);
#endif
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double coarse_epoch_time() noexcept {
#ifdef CLOCK_REALTIME_COARSE
  timespec now;
  if (clock_gettime(CLOCK_REALTIME_COARSE, &now) == 0) {
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
  }
#endif
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
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
