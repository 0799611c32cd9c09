// sampling_proxy.hpp: the sampling half of the daemon's TCP proxy (wire spec §7.4), answered
// locally: POST /GetSamplingRules returns the configured rules, POST /SamplingTargets grants each
// reporting rule its ReservoirSize as quota for 10 s and keeps per-rule statistics.
//
//   auto rules = xray::local::SamplingProxy::load_rules(file_text, &error);  // or default_rules()
//   xray::local::SamplingProxy proxy(*rules);
//   std::optional<std::string> reply = proxy.handle("/GetSamplingRules", body, now);
//
// Rules files hold either a bare JSON array of SamplingRule objects or what
// `aws xray get-sampling-rules` prints ({"SamplingRuleRecords":[{"SamplingRule":{...}}, ...]}).
// Without a file the proxy serves the SDKs' built-in default: 1 request a second, then 5%.
//
// Thread-safe: handle and statistics may be called concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace xray::local {

class SamplingProxy {
 public:
  // A rules file's text as a JSON array of SamplingRule objects; nullopt and a one-line reason
  // when it is neither accepted form (or a rule has no string RuleName).
  static std::optional<nlohmann::json> load_rules(std::string_view text, std::string* error);
  // The default rule: Priority 10000, ReservoirSize 1, FixedRate 0.05, every pattern "*".
  static nlohmann::json default_rules();

  explicit SamplingProxy(nlohmann::json rules);

  // The reply body for `path` (the request target), or nullopt for a path the proxy does not
  // serve (404). `now`: epoch seconds. Never throws: a body that is not what the API expects
  // gets an answer with no targets.
  std::optional<std::string> handle(std::string_view path, std::string_view body, double now);

  // {"rules": [...], "statistics": {rule: {requests, sampled, borrowed, reports, last_report}},
  //  "rule_requests": n, "target_requests": n}
  nlohmann::json statistics() const;

 private:
  struct RuleStatistics {
    std::uint64_t requests = 0, sampled = 0, borrowed = 0, reports = 0;
    double last_report = 0;
  };

  std::string rules_reply();
  std::string targets_reply(std::string_view body, double now);

  const nlohmann::json rules_;  // array of SamplingRule objects
  mutable std::mutex mutex_;
  std::map<std::string, RuleStatistics> statistics_;  // guarded by mutex_
  std::uint64_t rule_requests_ = 0;                   // mutex_
  std::uint64_t target_requests_ = 0;                 // mutex_
};

}  // namespace xray::local
