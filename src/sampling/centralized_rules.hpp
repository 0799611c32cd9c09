// Internal: centralized sampling rules (spec §7.4, §7.5): the rule records from GetSamplingRules,
// their per-rule reservoir state and statistics, the targets from SamplingTargets, and the decision.
//
//   auto rules = parse_sampling_rules(body, &next_token, &error);   // one page
//   RuleSet set = make_rule_set(std::move(all_pages), &previous);    // sorted, state carried over
//   const CentralizedRule* rule = set.match(request);
//   bool sampled = rule->decide(now_seconds, draw);
//
// A decision touches only the matched rule's atomics: no lock, no allocation. The counters it adds
// to are striped per thread, so decisions on two cores do not write the same cache line.
// Thread safety: RuleSet is immutable once built; RuleState is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "sampling/rule_matcher.hpp"
#include "xray/sampling.hpp"

namespace xray::detail {

// Reservoir, quota and statistics of one rule; survives rule refreshes for a rule of the same name.
class RuleState {
 public:
  static constexpr double kDefaultInterval = 10.0;

  // Spec §7.5 steps 1-4 for a matched rule at `now` (epoch seconds), `draw` uniform in [0, 1).
  bool decide(double now, double draw, std::uint32_t reservoir_size) noexcept;

  // Applies a SamplingTargetDocument; absent fields keep their previous value.
  void apply_target(std::optional<double> fixed_rate, std::optional<std::int64_t> quota,
                    std::optional<double> quota_ttl, std::optional<double> interval) noexcept;

  struct Statistics {
    std::uint64_t requests = 0;
    std::uint64_t sampled = 0;
    std::uint64_t borrowed = 0;
  };
  // Whether statistics are due at `now` (now >= last report + interval) and there is anything to
  // report; if so reads and resets the counters and records `now` as the last report.
  std::optional<Statistics> take_statistics_if_due(double now) noexcept;
  // The counters as they stand (summed over the stripes), without resetting them.
  Statistics statistics() const noexcept;

  void set_fixed_rate(double rate) noexcept { fixed_rate_.store(rate, std::memory_order_relaxed); }
  double fixed_rate() const noexcept { return fixed_rate_.load(std::memory_order_relaxed); }
  std::int64_t quota() const noexcept { return quota_.load(std::memory_order_relaxed); }
  double quota_ttl() const noexcept { return quota_ttl_.load(std::memory_order_relaxed); }
  double interval() const noexcept { return interval_.load(std::memory_order_relaxed); }

 private:
  bool take_from_quota(std::int64_t second, std::int64_t quota) noexcept;
  bool borrow(std::int64_t second) noexcept;

  std::atomic<double> fixed_rate_{0.0};
  std::atomic<std::int64_t> quota_{-1};  // -1: no quota assigned yet
  std::atomic<double> quota_ttl_{0.0};   // epoch seconds
  std::atomic<double> interval_{kDefaultInterval};
  std::atomic<std::uint64_t> quota_window_{0};  // (taken << 40) | second
  std::atomic<std::int64_t> borrowed_second_{-1};
  std::atomic<double> last_report_{0.0};

  // RequestCount, SampledCount and BorrowCount, striped: each thread adds to the stripe it was
  // given, each stripe on a cache line of its own, and a report sums them. The fields above are
  // read on every decision but written about once a second (per-second windows) or less.
  // RequestCount and SampledCount share one word (low and high 32 bits), added once per decision:
  // a stripe would need 2^32 decisions between two reports (every Interval, 10 s by default) for
  // the low half to carry.
  static constexpr std::size_t kStripes = 8;
  static constexpr std::uint64_t kOneRequest = 1;
  static constexpr std::uint64_t kOneSampled = std::uint64_t{1} << 32;
  struct alignas(64) Counters {
    std::atomic<std::uint64_t> requests_and_sampled{0};
    std::atomic<std::uint64_t> borrowed{0};
  };
  static std::size_t stripe() noexcept;
  static void add_packed(Statistics& statistics, std::uint64_t packed) noexcept;
  Counters counters_[kStripes];
};

struct CentralizedRule {
  std::string name;
  std::int64_t priority = 0;
  std::uint32_t reservoir_size = 0;
  double fixed_rate = 0.0;  // FixedRate of the record; targets then override it in `state`
  std::string service_name = "*";
  std::string service_type = "*";
  std::string host = "*";
  std::string http_method = "*";
  std::string url_path = "*";
  std::shared_ptr<RuleState> state;

  // All five patterns match; an absent request attribute matches any pattern.
  bool matches(const SamplingRequest& request) const noexcept;
};

// Rules in decision order: Priority ascending, then RuleName; "Default" last.
//
// After build_index() (make_rule_set calls it, off every lock) the patterns are compiled into a
// RuleMatcher: a decision costs the rules whose URLPath has a wildcard plus the rules whose
// literal URLPath equals the request's, not every rule (literal paths are looked up by a
// case-folded hash), and each candidate is still matched in full, in decision order, so the first
// matching rule wins exactly as in a linear scan with wildcard_match.
class RuleSet {
 public:
  std::vector<CentralizedRule> rules;
  const CentralizedRule* match(const SamplingRequest& request) const noexcept;
  const CentralizedRule* find(std::string_view name) const noexcept;
  // Indexes `rules` by name and compiles their patterns; call again after changing `rules`.
  void build_index();

 private:
  const CentralizedRule* match_linear(const SamplingRequest& request) const noexcept;

  bool indexed_ = false;
  std::unordered_map<std::string, std::uint32_t> by_name_;
  RuleMatcher matcher_;
};

// One page of a GetSamplingRules response. Unusable records are skipped and described in
// `skipped`; returns nullopt (and sets `error`) when the body itself is invalid.
std::optional<std::vector<CentralizedRule>> parse_sampling_rules(std::string_view body,
                                                                 std::string* next_token,
                                                                 std::vector<std::string>* skipped,
                                                                 std::string* error);

// Sorts `rules` (stably: equal priorities keep the response's order), keeps the first of each name
// in that order, and gives each the state of the rule of the same name in `previous` (reservoir,
// quota and pending statistics carry over), else a fresh one; either way the state's fixed rate
// becomes the record's FixedRate until the next target.
RuleSet make_rule_set(std::vector<CentralizedRule> rules, const RuleSet* previous);

// The body of a SamplingTargets request for the rules whose statistics are due; nullopt when none.
std::optional<nlohmann::json> statistics_document(const RuleSet& rules, double now,
                                                  std::string_view client_id);

struct TargetsOutcome {
  double last_rule_modification = 0;   // 0 when absent
  bool refresh_rules = false;          // an UnprocessedStatistics ErrorCode starting with 4
  std::vector<std::string> problems;   // UnprocessedStatistics entries, for the log
};
// Applies a SamplingTargets response to `rules`; nullopt (and `error`) when the body is invalid.
std::optional<TargetsOutcome> apply_sampling_targets(const RuleSet& rules, std::string_view body,
                                                     std::string* error);

}  // namespace xray::detail
