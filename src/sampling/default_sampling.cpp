#include "sampling/default_sampling.hpp"

#include <chrono>
#include <random>

#include "model/ids.hpp"

namespace xray {
namespace detail {

double uniform_draw() noexcept {
  thread_local std::mt19937_64 engine = [] {
    std::uint64_t seed = 0;
    random_bytes(&seed, sizeof seed);
    return std::mt19937_64(seed);
  }();
  return static_cast<double>(engine() >> 11) * 0x1.0p-53;
}

FixedRateSampling::FixedRateSampling(unsigned fixed_target, double rate, SecondsClock now, Draw draw)
    : reservoir_(fixed_target),
      fixed_target_(fixed_target),
      rate_(rate),
      now_(std::move(now)),
      draw_(std::move(draw)) {}

SamplingDecision FixedRateSampling::decide(const SamplingRequest&) noexcept {
  std::int64_t now = now_ ? now_()
                          : std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
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
