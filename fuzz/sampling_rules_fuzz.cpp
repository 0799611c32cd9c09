// Fuzz target: one page of a GetSamplingRules response (spec §7.4) from the daemon's proxy.
//
// Properties: parsing never throws or crashes; every accepted rule has a non-empty name and a
// fixed rate in [0, 1]; the rule set built from it (with state carried over from a previous set)
// is in decision order with unique names; every rule decides, and its statistics and the next
// page's request can be written as JSON the way the poller sends them (dump() must not throw).
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "sampling/centralized_rules.hpp"

namespace {

using xray::detail::CentralizedRule;
using xray::detail::RuleSet;

const RuleSet& previous_set() {
  static const RuleSet set = [] {
    std::vector<CentralizedRule> rules(2);
    rules[0].name = "Default";
    rules[0].priority = 10000;
    rules[0].fixed_rate = 0.05;
    rules[1].name = "api";
    rules[1].priority = 1;
    rules[1].fixed_rate = 1.0;
    return xray::detail::make_rule_set(std::move(rules), nullptr);
  }();
  return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string next_token = "unchanged";
  std::vector<std::string> skipped;
  std::string error;
  auto rules = xray::detail::parse_sampling_rules(input, &next_token, &skipped, &error);
  if (!rules) {
    XRAY_FUZZ_CHECK(!error.empty(), "rejected without a reason");
    return 0;
  }
  for (const auto& rule : *rules) {
    XRAY_FUZZ_CHECK(!rule.name.empty(), "accepted a rule without a name");
    XRAY_FUZZ_CHECK(rule.fixed_rate >= 0.0 && rule.fixed_rate <= 1.0,
                    "accepted a FixedRate outside [0, 1]");
    XRAY_FUZZ_CHECK(rule.priority >= 0, "accepted a negative Priority");
  }
  // The poller asks for the next page with {"NextToken": <token>}.
  (void)nlohmann::json{{"NextToken", next_token}}.dump();

  const RuleSet set = xray::detail::make_rule_set(std::move(*rules), &previous_set());
  std::set<std::string> names;
  for (std::size_t i = 0; i < set.rules.size(); ++i) {
    const auto& rule = set.rules[i];
    XRAY_FUZZ_CHECK(names.insert(rule.name).second, "two rules with one name");
    XRAY_FUZZ_CHECK(rule.state != nullptr, "rule without state");
    if (rule.name == "Default") {
      XRAY_FUZZ_CHECK(i + 1 == set.rules.size(), "Default is not last");
    } else if (i > 0 && set.rules[i - 1].name != "Default") {
      XRAY_FUZZ_CHECK(set.rules[i - 1].priority <= rule.priority, "rules not in priority order");
    }
    // A few decisions in one second and the next: reservoir, borrowing and the fixed rate.
    for (int k = 0; k < 3; ++k) {
      (void)rule.state->decide(1700000000.0 + k / 2, k * 0.4, rule.reservoir_size);
    }
    xray::SamplingRequest request;
    request.host = rule.host;
    request.method = rule.http_method;
    request.url_path = rule.url_path;
    request.service_name = rule.service_name;
    request.service_type = rule.service_type;
    XRAY_FUZZ_CHECK(set.match(request) != nullptr, "a rule does not match its own patterns");
  }
  // What the poller posts to SamplingTargets.
  auto statistics = xray::detail::statistics_document(set, 1700000100.0, "0123456789abcdef01234567");
  if (statistics) (void)statistics->dump();
  return 0;
}
