#include "sampling_proxy.hpp"

#include <utility>

namespace xray::local {

using nlohmann::json;

namespace {

std::uint64_t count_field(const json& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_number_unsigned() ? found->get<std::uint64_t>() : 0;
}

}  // namespace

std::optional<json> SamplingProxy::load_rules(std::string_view text, std::string* error) {
  auto fail = [error](std::string reason) -> std::optional<json> {
    if (error != nullptr) *error = std::move(reason);
    return std::nullopt;
  };
  const json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return fail("not valid JSON");
  json rules = json::array();
  if (parsed.is_array()) {
    rules = parsed;
  } else if (parsed.is_object() && parsed.contains("SamplingRuleRecords") &&
             parsed["SamplingRuleRecords"].is_array()) {
    for (const json& record : parsed["SamplingRuleRecords"]) {
      if (!record.is_object() || !record.contains("SamplingRule")) {
        return fail("a SamplingRuleRecords entry without SamplingRule");
      }
      rules.push_back(record["SamplingRule"]);
    }
  } else {
    return fail("neither an array of rules nor {\"SamplingRuleRecords\": [...]}");
  }
  for (const json& rule : rules) {
    if (!rule.is_object() || !rule.contains("RuleName") || !rule["RuleName"].is_string()) {
      return fail("a rule without a string RuleName");
    }
  }
  return rules;
}

json SamplingProxy::default_rules() {
  return json::array({{{"RuleName", "Default"},
                       {"RuleARN", "arn:aws:xray:us-east-1::sampling-rule/Default"},
                       {"ResourceARN", "*"},
                       {"Priority", 10000},
                       {"FixedRate", 0.05},
                       {"ReservoirSize", 1},
                       {"ServiceName", "*"},
                       {"ServiceType", "*"},
                       {"Host", "*"},
                       {"HTTPMethod", "*"},
                       {"URLPath", "*"},
                       {"Version", 1},
                       {"Attributes", json::object()}}});
}

SamplingProxy::SamplingProxy(json rules) : rules_(std::move(rules)) {}

std::optional<std::string> SamplingProxy::handle(std::string_view path, std::string_view body,
                                                 double now) {
  const std::string_view route = path.substr(0, path.find('?'));
  try {
    if (route == "/GetSamplingRules") return rules_reply();
    if (route == "/SamplingTargets") return targets_reply(body, now);
  } catch (const std::exception&) {
    return json{{"SamplingTargetDocuments", json::array()},
                {"UnprocessedStatistics", json::array()}}
        .dump();
  }
  return std::nullopt;
}

std::string SamplingProxy::rules_reply() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++rule_requests_;
  }
  json records = json::array();
  for (const json& rule : rules_) {
    records.push_back({{"SamplingRule", rule}, {"CreatedAt", 0.0}, {"ModifiedAt", 0.0}});
  }
  return json{{"SamplingRuleRecords", std::move(records)}, {"NextToken", nullptr}}.dump();
}

std::string SamplingProxy::targets_reply(std::string_view body, double now) {
  const json request = json::parse(body, nullptr, false);
  json targets = json::array();
  json unprocessed = json::array();
  std::lock_guard<std::mutex> lock(mutex_);
  ++target_requests_;
  const auto documents = request.is_object() ? request.find("SamplingStatisticsDocuments")
                                             : request.end();
  if (request.is_object() && documents != request.end() && documents->is_array()) {
    for (const json& report : *documents) {
      if (!report.is_object() || !report.contains("RuleName") || !report["RuleName"].is_string()) {
        continue;
      }
      const std::string name = report["RuleName"].get<std::string>();
      const json* rule = nullptr;
      for (const json& candidate : rules_) {
        if (candidate.value("RuleName", json()) == name) rule = &candidate;
      }
      if (rule == nullptr) {
        unprocessed.push_back({{"RuleName", name}, {"ErrorCode", "400"},
                               {"Message", "no such rule"}});
        continue;
      }
      RuleStatistics& stats = statistics_[name];
      stats.requests += count_field(report, "RequestCount");
      stats.sampled += count_field(report, "SampledCount");
      stats.borrowed += count_field(report, "BorrowCount");
      ++stats.reports;
      stats.last_report = now;
      targets.push_back({{"RuleName", name},
                         {"FixedRate", rule->value("FixedRate", json(0.0))},
                         {"ReservoirQuota", rule->value("ReservoirSize", json(0))},
                         {"ReservoirQuotaTTL", now + 10},
                         {"Interval", 10}});
    }
  }
  return json{{"SamplingTargetDocuments", std::move(targets)},
              {"LastRuleModification", 0.0},
              {"UnprocessedStatistics", std::move(unprocessed)}}
      .dump();
}

json SamplingProxy::statistics() const {
  std::lock_guard<std::mutex> lock(mutex_);
  json per_rule = json::object();
  for (const auto& [name, stats] : statistics_) {
    per_rule[name] = {{"requests", stats.requests}, {"sampled", stats.sampled},
                      {"borrowed", stats.borrowed}, {"reports", stats.reports},
                      {"last_report", stats.last_report}};
  }
  return {{"rules", rules_},
          {"statistics", std::move(per_rule)},
          {"rule_requests", rule_requests_},
          {"target_requests", target_requests_}};
}

}  // namespace xray::local
