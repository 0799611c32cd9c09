// xray/sampling.hpp: the sampling decision for segments whose upstream did not decide.
//
// The recorder asks its strategy once per new trace whose incoming header carries no Sampled=1/0.
// The built-in strategy samples the first request of every second and 5% of the rest. A custom
// strategy can be installed with `config.sampling = std::make_shared<MyStrategy>()`.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace xray {

// What is known about the request a segment traces. An absent attribute matches every rule.
struct SamplingRequest {
  std::optional<std::string_view> host;
  std::optional<std::string_view> method;
  std::optional<std::string_view> url_path;
  std::optional<std::string_view> service_name;  // filled by the recorder: the segment's final name
  std::optional<std::string_view> service_type;  // filled by the recorder: the plugins' origin
};

struct SamplingDecision {
  bool sampled = false;
  // Name of the centralized rule that decided; recorded as aws.xray.sampling_rule_name when set.
  std::string rule_name;
};

// Thread safety: `decide` is called concurrently from every request thread and must be thread-safe.
// It must not block or do I/O.
class SamplingStrategy {
 public:
  virtual ~SamplingStrategy() = default;
  virtual SamplingDecision decide(const SamplingRequest& request) noexcept = 0;
  // A short description for logs ("local default rule", ...).
  virtual std::string describe() const = 0;
};

// The built-in rule: `fixed_target` requests per wall-clock second, then `rate` of the rest.
std::shared_ptr<SamplingStrategy> make_default_sampling(unsigned fixed_target = 1,
                                                        double rate = 0.05);

// The value of `Config::sampling`: `true` (the default strategy), `false` (sample everything) or
// a strategy object.
class Sampling {
 public:
  Sampling() = default;
  // Only `bool` converts implicitly; pointers and integers do not.
  template <typename B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>
  Sampling(B enabled) : enabled_(enabled) {}  // NOLINT(google-explicit-constructor)
  Sampling(std::shared_ptr<SamplingStrategy> strategy)  // NOLINT(google-explicit-constructor)
      : enabled_(true), strategy_(std::move(strategy)) {}

  bool enabled() const noexcept { return enabled_; }
  const std::shared_ptr<SamplingStrategy>& strategy() const noexcept { return strategy_; }

 private:
  bool enabled_ = true;
  std::shared_ptr<SamplingStrategy> strategy_;
};

}  // namespace xray
