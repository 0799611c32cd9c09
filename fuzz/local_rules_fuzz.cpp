// Fuzz target: local sampling rules files (spec §7.2), as read from Sampling::rules_file or
// Sampling::rules_json.
//
// Properties: parse_local_rules never throws (configure() must not see an exception) and never
// crashes; a failure always names the problem; an accepted manifest has version 1 or 2 and rates in
// [0, 1], and the strategy built from it decides and describes every rule without crashing.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "sampling/local_rules.hpp"

namespace {

void check_rule(const xray::detail::LocalRule& rule) {
  XRAY_FUZZ_CHECK(rule.rate >= 0.0 && rule.rate <= 1.0, "accepted a rate outside [0, 1]");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto manifest = xray::detail::parse_local_rules(input, &error);
  if (!manifest) {
    XRAY_FUZZ_CHECK(!error.empty(), "rejected without a reason");
    return 0;
  }
  XRAY_FUZZ_CHECK(manifest->version == 1 || manifest->version == 2, "accepted another version");
  check_rule(manifest->default_rule);
  for (const auto& rule : manifest->rules) check_rule(rule);

  const std::size_t rule_count = manifest->rules.size();
  xray::detail::LocalRulesSampling sampling(
      std::move(*manifest), [] { return std::int64_t{1700000000}; }, [] { return 0.5; });
  // Requests built from the rules' own patterns, so matching paths are exercised too.
  for (std::size_t i = 0; i < rule_count && i < 8; ++i) {
    const auto& rule = sampling.manifest().rules[i];
    xray::SamplingRequest request;
    request.host = rule.host;
    request.method = rule.http_method;
    request.url_path = rule.url_path;
    const auto match = sampling.decide_with_rule(request);
    XRAY_FUZZ_CHECK(match.rule == xray::detail::LocalRulesSampling::kDefaultRule ||
                        match.rule < rule_count,
                    "decided by a rule that does not exist");
    (void)sampling.describe_rule(i);
  }
  xray::SamplingRequest empty;
  (void)sampling.decide(empty);
  (void)sampling.describe_rule(xray::detail::LocalRulesSampling::kDefaultRule);
  (void)sampling.describe();
  return 0;
}
