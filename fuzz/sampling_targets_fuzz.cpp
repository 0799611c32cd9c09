// Fuzz target: a SamplingTargets response (spec §7.5) applied to a rule set.
//
// Properties: applying never throws or crashes; afterwards every rule's fixed rate stays in
// [0, 1], its interval positive and finite, its quota -1 or non-negative; decisions and the next
// statistics document still work.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "sampling/centralized_rules.hpp"

namespace {

using xray::detail::CentralizedRule;
using xray::detail::RuleSet;

RuleSet fresh_set() {
  std::vector<CentralizedRule> rules(3);
  rules[0].name = "Default";
  rules[0].priority = 10000;
  rules[0].reservoir_size = 1;
  rules[0].fixed_rate = 0.05;
  rules[1].name = "api";
  rules[1].priority = 1;
  rules[1].reservoir_size = 10;
  rules[1].fixed_rate = 0.5;
  rules[2].name = "orders";
  rules[2].priority = 2;
  rules[2].fixed_rate = 0.1;
  return xray::detail::make_rule_set(std::move(rules), nullptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const RuleSet set = fresh_set();
  for (const auto& rule : set.rules) (void)rule.state->decide(1700000000.0, 0.9, rule.reservoir_size);

  std::string error;
  auto outcome = xray::detail::apply_sampling_targets(set, input, &error);
  if (!outcome) {
    XRAY_FUZZ_CHECK(!error.empty(), "rejected without a reason");
    return 0;
  }
  XRAY_FUZZ_CHECK(std::isfinite(outcome->last_rule_modification),
                  "LastRuleModification is not finite");
  for (const auto& rule : set.rules) {
    const auto& state = *rule.state;
    XRAY_FUZZ_CHECK(state.fixed_rate() >= 0.0 && state.fixed_rate() <= 1.0,
                    "fixed rate outside [0, 1] after targets");
    XRAY_FUZZ_CHECK(std::isfinite(state.interval()) && state.interval() > 0,
                    "interval not positive and finite after targets");
    XRAY_FUZZ_CHECK(state.quota() >= -1, "negative quota after targets");
    for (int k = 0; k < 3; ++k) (void)rule.state->decide(1700000001.0 + k, 0.3, rule.reservoir_size);
  }
  auto statistics = xray::detail::statistics_document(set, 1700001000.0, "0123456789abcdef01234567");
  if (statistics) (void)statistics->dump();
  for (const auto& problem : outcome->problems) (void)problem.size();
  return 0;
}
