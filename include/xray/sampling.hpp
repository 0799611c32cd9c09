// xray/sampling.hpp: the sampling decision for segments whose upstream did not decide.
//
// The recorder asks its strategy once per new trace whose incoming header carries no Sampled=1/0.
// The built-in strategy samples the first request of every second and 5% of the rest. A custom
// strategy can be installed with `config.sampling = std::make_shared<MyStrategy>()`, and local
// rules (spec §7.2) with
//   config.sampling = xray::Sampling::local_rules_file("/etc/xray/sampling-rules.json");
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "xray/export.hpp"

namespace xray {

// What is known about the request a segment traces. An absent attribute, or an empty one, matches
// every rule (spec §7.3).
struct SamplingRequest {
  std::optional<std::string_view> host;
  std::optional<std::string_view> method;
  std::optional<std::string_view> url_path;
  // Used as given; when unset (nullopt) the recorder fills in the segment's final name.
  std::optional<std::string_view> service_name;
  // Used as given; when unset the recorder fills in the plugins' origin (when there is one).
  std::optional<std::string_view> service_type;
};

struct SamplingDecision {
  bool sampled = false;
  // Name of the centralized rule that decided; recorded as aws.xray.sampling_rule_name on sampled
  // segments.
  std::string rule_name;
};

// Thread safety: `decide` is called concurrently from every request thread and must be thread-safe.
// It must not block or do I/O.
class XRAY_EXPORT SamplingStrategy {
 public:
  virtual ~SamplingStrategy() = default;
  virtual SamplingDecision decide(const SamplingRequest& request) noexcept = 0;
  // A short description for logs ("local default rule", ...).
  virtual std::string describe() const = 0;
};

// The built-in rule's figures (spec §7.2): the first request each second, then 5% of the rest.
inline constexpr unsigned kDefaultFixedTarget = 1;
inline constexpr double kDefaultRate = 0.05;

// The built-in rule: `fixed_target` requests per wall-clock second, then `rate` of the rest.
XRAY_EXPORT std::shared_ptr<SamplingStrategy> make_default_sampling(
    unsigned fixed_target = kDefaultFixedTarget, double rate = kDefaultRate);

// Local rules from a manifest (spec §7.2), e.g.
//   {"version": 2, "default": {"fixed_target": 1, "rate": 0.05},
//    "rules": [{"host": "*", "http_method": "GET", "url_path": "/health",
//               "fixed_target": 0, "rate": 0}]}
// Rules are tried in order, the first whose host, http_method and url_path patterns (`*`, `?`,
// ASCII case-insensitive) match decides, else `default`; an absent request attribute matches any
// pattern. Returns nullptr and sets `*error` (when not null) to the problem when the manifest is
// invalid; any invalid field rejects the whole manifest.
XRAY_EXPORT std::shared_ptr<SamplingStrategy> make_local_rules_sampling(std::string_view json_text,
                                                                        std::string* error);

// The value of `Config::sampling`: `true` (the default strategy), `false` (sample everything), a
// strategy object, or a local rules source (`local_rules_file`, `local_rules_json`).
class Sampling {
 public:
  Sampling() = default;
  // Only `bool` converts implicitly; pointers and integers do not.
  template <typename B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>
  Sampling(B enabled) : enabled_(enabled), centralized_(enabled) {}  // NOLINT(google-explicit-constructor)
  Sampling(std::shared_ptr<SamplingStrategy> strategy)  // NOLINT(google-explicit-constructor)
      : enabled_(true), centralized_(false), strategy_(std::move(strategy)) {}

  enum class RulesSource { kNone, kFile, kJson };

  // Local rules (spec §7.2) read from the JSON file at `path`, or given as JSON text. They are
  // read and validated when the configuration is applied: an unreadable or invalid manifest is
  // reported in ConfigResult::errors and the built-in default strategy is used instead.
  static Sampling local_rules_file(std::string path) {
    return Sampling(RulesSource::kFile, std::move(path));
  }
  static Sampling local_rules_json(std::string json_text) {
    return Sampling(RulesSource::kJson, std::move(json_text));
  }

  // Centralized rules from the daemon's TCP proxy with this value's local rules as the fallback.
  // `true` is centralized with the built-in local rule (the default outside Lambda).
  static Sampling local_default() { return Sampling(RulesSource::kNone, ""); }
  Sampling with_centralized(bool centralized) const {
    Sampling copy = *this;
    copy.centralized_ = centralized && enabled_;
    return copy;
  }

  bool enabled() const noexcept { return enabled_; }
  // Whether centralized rules are fetched (when not in Lambda); local rules decide until they
  // arrive, when none matches and when they are more than an hour old.
  bool centralized() const noexcept { return centralized_; }
  const std::shared_ptr<SamplingStrategy>& strategy() const noexcept { return strategy_; }
  RulesSource rules_source() const noexcept { return rules_source_; }
  // The path (kFile) or the JSON text (kJson); empty for kNone.
  const std::string& rules() const noexcept { return rules_; }

 private:
  Sampling(RulesSource source, std::string rules)
      : enabled_(true), centralized_(false), rules_source_(source), rules_(std::move(rules)) {}

  bool enabled_ = true;
  bool centralized_ = true;
  std::shared_ptr<SamplingStrategy> strategy_;
  RulesSource rules_source_ = RulesSource::kNone;
  std::string rules_;
};

}  // namespace xray
