// Internal: local sampling rules (spec §7.2): parsing and validating a rules manifest, and the
// strategy that applies it.
//
//   std::string error;
//   auto manifest = parse_local_rules(json_text, &error);   // std::nullopt + error when invalid
//   auto strategy = std::make_shared<LocalRulesSampling>(std::move(*manifest));
//   bool sampled = strategy->decide(request).sampled;
//
// Validation rejects the whole manifest on the first problem; the error names it
// ("rules[2]: rate must be a number in [0, 1]"). Evaluation: rules in array order, the first whose
// host, http_method and url_path patterns all match decides, else the manifest's default; an absent
// request attribute matches any pattern, but a request with none of the three uses the default
// (spec §7.2: "a segment begun without request information uses default"). The deciding rule
// takes from its own per-second reservoir, else samples iff a uniform draw in [0, 1) is below its
// rate.
//
// The rules' patterns are compiled when the strategy is built (RuleMatcher): a decision costs the
// checks that can tell the rules apart, not a wildcard walk per pattern.
//
// Thread safety: LocalRulesSampling is thread-safe; `decide` neither locks nor allocates (unless an
// injected clock or draw does). The free functions are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sampling/reservoir.hpp"
#include "sampling/rule_matcher.hpp"
#include "xray/sampling.hpp"

namespace xray::detail {

// Rules files larger than this are rejected unread: a manifest is a few kilobytes.
inline constexpr std::size_t kMaxRulesFileBytes = 1024 * 1024;

struct LocalRule {
  // Patterns (spec §7.3). `host` is the v2 `host` or the v1 `service_name`; both are matched
  // against the request host. Unused ("*") for the default rule.
  std::string host = "*";
  std::string http_method = "*";
  std::string url_path = "*";
  std::uint32_t fixed_target = 0;  // per wall-clock second; larger JSON values saturate
  double rate = 0.0;               // in [0, 1]
};

struct LocalRulesManifest {
  int version = 2;
  std::vector<LocalRule> rules;  // in evaluation order
  LocalRule default_rule;
};

// Parses and validates a manifest. On failure returns std::nullopt and sets `*error` (when not
// null) to the problem, without a prefix naming the source.
std::optional<LocalRulesManifest> parse_local_rules(std::string_view json_text, std::string* error);

// Reads a whole rules file of at most kMaxRulesFileBytes. On failure returns std::nullopt and sets
// `*error` to the problem ("cannot open: No such file or directory", "larger than 1048576 bytes").
std::optional<std::string> read_rules_file(const std::string& path, std::string* error);

// Builds the strategy for a Sampling whose rules_source() is kFile or kJson. On failure returns
// nullptr and sets `*error` to a message naming the source and the problem:
//   sampling rules file "/etc/rules.json": rules[0]: missing url_path
//   sampling rules JSON: version must be 1 or 2
// `now` (epoch seconds; the system clock when null) times the rules' reservoirs.
std::shared_ptr<SamplingStrategy> make_sampling_from_rules(
    const Sampling& sampling, std::string* error,
    std::function<std::int64_t()> now = nullptr);

// Thread safety: thread-safe.
class LocalRulesSampling final : public SamplingStrategy {
 public:
  using SecondsClock = std::function<std::int64_t()>;  // epoch seconds; system clock when null
  using Draw = std::function<double()>;                // uniform in [0, 1); uniform_draw when null

  // Index of the default rule in Match::rule.
  static constexpr std::size_t kDefaultRule = static_cast<std::size_t>(-1);

  struct Match {
    bool sampled = false;
    std::size_t rule = kDefaultRule;  // index into manifest().rules, or kDefaultRule
  };

  explicit LocalRulesSampling(LocalRulesManifest manifest, SecondsClock now = nullptr,
                              Draw draw = nullptr);

  // The decision; SamplingDecision::rule_name stays empty (it names centralized rules only).
  SamplingDecision decide(const SamplingRequest& request) noexcept override;
  // The decision and which rule made it, for debug logging and tests.
  Match decide_with_rule(const SamplingRequest& request) noexcept;
  // Which rule applies to `request`, without taking from a reservoir or drawing.
  std::size_t match(const SamplingRequest& request) const noexcept;

  std::string describe() const override;
  // "rule 1 (host "*", http_method "GET", url_path "/api/*"): 10 per second, then rate 0.05", or
  // "default rule: ..." for kDefaultRule.
  std::string describe_rule(std::size_t rule) const;

  const LocalRulesManifest& manifest() const noexcept { return manifest_; }

 private:
  const LocalRulesManifest manifest_;
  const RuleMatcher matcher_;  // manifest_.rules' host, http_method and url_path
  // One reservoir per rule, parallel to manifest_.rules; a deque because Reservoir cannot move.
  std::deque<Reservoir> reservoirs_;
  Reservoir default_reservoir_;
  SecondsClock now_;
  Draw draw_;
};

}  // namespace xray::detail
