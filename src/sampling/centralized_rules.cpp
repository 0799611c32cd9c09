#include "sampling/centralized_rules.hpp"

#include "base/json_fields.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "xray/wildcard.hpp"

namespace xray::detail {
namespace {

constexpr int kSecondBits = 40;
constexpr std::uint64_t kSecondMask = (std::uint64_t{1} << kSecondBits) - 1;

// An absent or empty attribute matches any pattern (spec §7.3).
bool pattern_matches(const std::string& pattern, const std::optional<std::string_view>& value) {
  return !value || value->empty() || wildcard_match(pattern, *value);
}

bool is_non_negative_integer(const nlohmann::json& value) {
  if (value.is_number_unsigned()) return true;
  if (value.is_number_integer()) return value.get<std::int64_t>() >= 0;
  if (value.is_number_float()) {
    double number = value.get<double>();
    return std::isfinite(number) && number >= 0 && std::floor(number) == number;
  }
  return false;
}

// A non-negative integer field (is_non_negative_integer holds) as int64, saturating: a whole
// double such as 1e300, or an unsigned above INT64_MAX, must not reach an undefined conversion.
std::int64_t saturating_int64(const nlohmann::json& value) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  if (value.is_number_unsigned()) {
    return std::min<std::uint64_t>(value.get<std::uint64_t>(), static_cast<std::uint64_t>(kMax));
  }
  if (value.is_number_integer()) return value.get<std::int64_t>();
  const double number = value.get<double>();
  return number >= 9.2e18 ? kMax : static_cast<std::int64_t>(number);
}

std::optional<double> number_field(const nlohmann::json& object, const char* key) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_number()) return std::nullopt;
  double value = found->get<double>();
  return std::isfinite(value) ? std::optional<double>(value) : std::nullopt;
}

// The reason a record is unusable (spec §7.4), or "" when it is usable.
std::string check_record(const nlohmann::json& rule) {
  if (!rule.is_object()) return "SamplingRule is not an object";
  auto name = rule.find("RuleName");
  if (name == rule.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return "RuleName missing or empty";
  }
  auto version = rule.find("Version");
  if (version == rule.end() || !version->is_number() || version->get<double>() != 1) {
    return "Version is not 1";
  }
  auto arn = rule.find("ResourceARN");
  if (arn == rule.end() || !arn->is_string() || *arn != "*") return "ResourceARN is not *";
  auto attributes = rule.find("Attributes");
  if (attributes != rule.end() && !attributes->is_null() &&
      !(attributes->is_object() && attributes->empty())) {
    return "rule has Attributes";
  }
  for (const char* key : {"Priority", "ReservoirSize"}) {
    auto value = rule.find(key);
    if (value == rule.end() || !is_non_negative_integer(*value)) {
      return std::string(key) + " is not a non-negative integer";
    }
  }
  auto rate = number_field(rule, "FixedRate");
  if (!rate || *rate < 0 || *rate > 1) return "FixedRate is not in [0, 1]";
  for (const char* key : {"ServiceName", "ServiceType", "Host", "HTTPMethod", "URLPath"}) {
    auto value = rule.find(key);
    if (value == rule.end() || !value->is_string()) return std::string(key) + " is not a string";
  }
  return "";
}

}  // namespace

bool RuleState::take_from_quota(std::int64_t second, std::int64_t quota) noexcept {
  if (quota <= 0) return false;  // a quota of 0 is honoured: nothing from the reservoir
  const auto window_second = static_cast<std::uint64_t>(second) & kSecondMask;
  std::uint64_t state = quota_window_.load(std::memory_order_relaxed);
  for (;;) {
    std::uint64_t taken = (state & kSecondMask) == window_second ? state >> kSecondBits : 0;
    if (taken >= static_cast<std::uint64_t>(quota)) return false;
    std::uint64_t next = ((taken + 1) << kSecondBits) | window_second;
    if (quota_window_.compare_exchange_weak(state, next, std::memory_order_relaxed)) return true;
  }
}

bool RuleState::borrow(std::int64_t second) noexcept {
  std::int64_t last = borrowed_second_.load(std::memory_order_relaxed);
  while (last != second) {
    if (borrowed_second_.compare_exchange_weak(last, second, std::memory_order_relaxed)) return true;
  }
  return false;
}

std::size_t RuleState::stripe() noexcept {
  // Threads take stripes in turn, so the first kStripes threads never share one.
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
  return mine;
}

bool RuleState::decide(double now, double draw, std::uint32_t reservoir_size) noexcept {
  Counters& counters = counters_[stripe()];
  const auto second = static_cast<std::int64_t>(std::floor(now));
  const std::int64_t quota = quota_.load(std::memory_order_relaxed);
  bool sampled = false;
  bool borrowed = false;
  if (quota >= 0 && now <= quota_ttl_.load(std::memory_order_relaxed)) {
    sampled = take_from_quota(second, quota);
  } else if (reservoir_size > 0 && borrow(second)) {
    // No (valid) quota yet: one request a second, as the service expects while it assigns one.
    sampled = borrowed = true;
  }
  sampled = sampled || draw < fixed_rate_.load(std::memory_order_relaxed);
  // One add for the request and its outcome, so that a report never holds one without the other;
  // the borrow after it, so that no report holds a borrow before its sample.
  counters.requests_and_sampled.fetch_add(kOneRequest + (sampled ? kOneSampled : 0),
                                          std::memory_order_relaxed);
  if (borrowed) counters.borrowed.fetch_add(1, std::memory_order_release);  // after the add above
  return sampled;
}

void RuleState::apply_target(std::optional<double> fixed_rate, std::optional<std::int64_t> quota,
                             std::optional<double> quota_ttl, std::optional<double> interval) noexcept {
  if (fixed_rate) fixed_rate_.store(*fixed_rate, std::memory_order_relaxed);
  if (quota) quota_.store(*quota, std::memory_order_relaxed);
  if (quota_ttl) quota_ttl_.store(*quota_ttl, std::memory_order_relaxed);
  if (interval && *interval > 0) interval_.store(*interval, std::memory_order_relaxed);
}

std::optional<RuleState::Statistics> RuleState::take_statistics_if_due(double now) noexcept {
  if (now < last_report_.load(std::memory_order_relaxed) + interval()) return std::nullopt;
  const Statistics pending = statistics();
  if (pending.requests == 0 && pending.borrowed == 0) return std::nullopt;  // not matched since
  // Each count is taken exactly once: a decision adding meanwhile lands in this report or the next,
  // its borrow (taken first here, added last there) never in an earlier one than its request.
  Statistics statistics;
  for (Counters& counters : counters_) {
    // Acquire: a borrow taken here brings its decision's add into the exchange below.
    statistics.borrowed += counters.borrowed.exchange(0, std::memory_order_acquire);
    add_packed(statistics, counters.requests_and_sampled.exchange(0, std::memory_order_relaxed));
  }
  last_report_.store(now, std::memory_order_relaxed);
  return statistics;
}

RuleState::Statistics RuleState::statistics() const noexcept {
  Statistics statistics;
  for (const Counters& counters : counters_) {
    statistics.borrowed += counters.borrowed.load(std::memory_order_relaxed);
    add_packed(statistics, counters.requests_and_sampled.load(std::memory_order_relaxed));
  }
  return statistics;
}

void RuleState::add_packed(Statistics& statistics, std::uint64_t packed) noexcept {
  statistics.requests += packed & (kOneSampled - 1);
  statistics.sampled += packed >> 32;
}

bool CentralizedRule::matches(const SamplingRequest& request) const noexcept {
  return pattern_matches(service_name, request.service_name) &&
         pattern_matches(service_type, request.service_type) &&
         pattern_matches(host, request.host) && pattern_matches(http_method, request.method) &&
         pattern_matches(url_path, request.url_path);
}

void RuleSet::build_index() {
  indexed_ = false;
  by_name_.clear();
  by_name_.reserve(rules.size());
  std::vector<RulePatterns> patterns(rules.size());
  for (std::uint32_t i = 0; i < rules.size(); ++i) {
    const CentralizedRule& rule = rules[i];
    by_name_.emplace(rule.name, i);  // the first of a name wins, as in find's linear form
    patterns[i] = {rule.service_name, rule.service_type, rule.host, rule.http_method, rule.url_path};
  }
  matcher_ = RuleMatcher(patterns);
  indexed_ = true;
}

const CentralizedRule* RuleSet::match_linear(const SamplingRequest& request) const noexcept {
  for (const auto& rule : rules) {
    if (rule.matches(request)) return &rule;
  }
  return nullptr;
}

const CentralizedRule* RuleSet::match(const SamplingRequest& request) const noexcept {
  if (!indexed_) return match_linear(request);
  const std::size_t rule = matcher_.match(request);
  return rule == RuleMatcher::kNoRule ? nullptr : &rules[rule];
}

const CentralizedRule* RuleSet::find(std::string_view name) const noexcept {
  if (indexed_) {
    // Called by the poller, never on a request path: the key's allocation is fine.
    try {
      auto found = by_name_.find(std::string(name));
      return found == by_name_.end() ? nullptr : &rules[found->second];
    } catch (...) {
      // Out of memory for the key: the linear form below needs none.
    }
  }
  for (const auto& rule : rules) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

std::optional<std::vector<CentralizedRule>> parse_sampling_rules(std::string_view body,
                                                                 std::string* next_token,
                                                                 std::vector<std::string>* skipped,
                                                                 std::string* error) {
  auto document = nlohmann::json::parse(body, nullptr, false);
  if (!document.is_object()) {
    if (error) *error = "GetSamplingRules: the response is not a JSON object";
    return std::nullopt;
  }
  auto records = document.find("SamplingRuleRecords");
  if (records == document.end() || !records->is_array()) {
    if (error) *error = "GetSamplingRules: SamplingRuleRecords missing";
    return std::nullopt;
  }
  if (next_token) {
    auto token = document.find("NextToken");
    *next_token = token != document.end() && token->is_string() ? token->get<std::string>() : "";
  }
  std::vector<CentralizedRule> rules;
  for (const auto& record : *records) {
    const nlohmann::json* rule = record.is_object() && record.contains("SamplingRule")
                                     ? &record["SamplingRule"]
                                     : nullptr;
    std::string problem = rule ? check_record(*rule) : "record without SamplingRule";
    if (!problem.empty()) {
      if (skipped) {
        std::string name = rule && rule->is_object() ? string_field(*rule, "RuleName", "?") : "?";
        skipped->push_back("rule \"" + name + "\": " + problem);
      }
      continue;
    }
    CentralizedRule parsed;
    parsed.name = (*rule)["RuleName"].get<std::string>();
    parsed.priority = saturating_int64((*rule)["Priority"]);
    double reservoir = (*rule)["ReservoirSize"].get<double>();
    parsed.reservoir_size = reservoir > 4e9 ? 4000000000u : static_cast<std::uint32_t>(reservoir);
    parsed.fixed_rate = (*rule)["FixedRate"].get<double>();
    parsed.service_name = (*rule)["ServiceName"].get<std::string>();
    parsed.service_type = (*rule)["ServiceType"].get<std::string>();
    parsed.host = (*rule)["Host"].get<std::string>();
    parsed.http_method = (*rule)["HTTPMethod"].get<std::string>();
    parsed.url_path = (*rule)["URLPath"].get<std::string>();
    rules.push_back(std::move(parsed));
  }
  return rules;
}

RuleSet make_rule_set(std::vector<CentralizedRule> rules, const RuleSet* previous) {
  // Stable: of two records with the same name and priority, the one listed first is kept below
  // (std::sort let a later duplicate win once there were enough rules for it to reorder equals).
  std::stable_sort(rules.begin(), rules.end(), [](const CentralizedRule& a, const CentralizedRule& b) {
    bool a_default = a.name == "Default";
    bool b_default = b.name == "Default";
    if (a_default != b_default) return b_default;
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.name < b.name;
  });
  RuleSet set;
  set.rules.reserve(rules.size());
  {
    // Names are unique; keep the first. A set of names, not find(): O(n), not O(n^2).
    std::unordered_map<std::string, bool> seen;
    seen.reserve(rules.size());
    for (auto& rule : rules) {
      if (!seen.emplace(rule.name, true).second) continue;
      const CentralizedRule* old = previous ? previous->find(rule.name) : nullptr;
      rule.state = old ? old->state : std::make_shared<RuleState>();
      rule.state->set_fixed_rate(rule.fixed_rate);
      set.rules.push_back(std::move(rule));
    }
  }
  set.build_index();
  return set;
}

std::optional<nlohmann::json> statistics_document(const RuleSet& rules, double now,
                                                  std::string_view client_id) {
  nlohmann::json documents = nlohmann::json::array();
  for (const auto& rule : rules.rules) {
    auto statistics = rule.state->take_statistics_if_due(now);
    if (!statistics) continue;
    documents.push_back({{"RuleName", rule.name},
                         {"ClientID", client_id},
                         {"Timestamp", static_cast<std::int64_t>(std::floor(now))},
                         {"RequestCount", statistics->requests},
                         {"SampledCount", statistics->sampled},
                         {"BorrowCount", statistics->borrowed}});
  }
  if (documents.empty()) return std::nullopt;
  return nlohmann::json{{"SamplingStatisticsDocuments", std::move(documents)}};
}

std::optional<TargetsOutcome> apply_sampling_targets(const RuleSet& rules, std::string_view body,
                                                     std::string* error) {
  auto document = nlohmann::json::parse(body, nullptr, false);
  if (!document.is_object()) {
    if (error) *error = "SamplingTargets: the response is not a JSON object";
    return std::nullopt;
  }
  TargetsOutcome outcome;
  outcome.last_rule_modification = number_field(document, "LastRuleModification").value_or(0);
  auto targets = document.find("SamplingTargetDocuments");
  if (targets != document.end() && targets->is_array()) {
    for (const auto& target : *targets) {
      if (!target.is_object() || !target.contains("RuleName") || !target["RuleName"].is_string()) {
        continue;
      }
      const CentralizedRule* rule = rules.find(target["RuleName"].get<std::string>());
      if (rule == nullptr) continue;
      std::optional<double> rate = number_field(target, "FixedRate");
      if (rate && (*rate < 0 || *rate > 1)) rate.reset();
      std::optional<std::int64_t> quota;
      if (auto q = target.find("ReservoirQuota"); q != target.end() && is_non_negative_integer(*q)) {
        quota = saturating_int64(*q);
      }
      rule->state->apply_target(rate, quota, number_field(target, "ReservoirQuotaTTL"),
                                number_field(target, "Interval"));
    }
  }
  auto unprocessed = document.find("UnprocessedStatistics");
  if (unprocessed != document.end() && unprocessed->is_array()) {
    for (const auto& entry : *unprocessed) {
      if (!entry.is_object()) continue;
      std::string code = string_field(entry, "ErrorCode", "");
      outcome.problems.push_back("rule \"" + string_field(entry, "RuleName", "?") + "\": " + code +
                                 " " + string_field(entry, "Message", ""));
      if (!code.empty() && code[0] == '4') outcome.refresh_rules = true;
    }
  }
  return outcome;
}

}  // namespace xray::detail
