#include "sampling/local_rules.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "sampling/default_sampling.hpp"

namespace xray {
namespace detail {
namespace {

using json = nlohmann::json;

// Validation stops at the first problem; the message goes to `error_` with its location.
class ManifestParser {
 public:
  std::optional<LocalRulesManifest> parse(std::string_view text) {
    json root;
    try {
      root = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {
      // parse_error, and out_of_range.406 for numbers beyond double (1e400): the file is invalid,
      // never an exception for configure() to see.
      return fail("", std::string("invalid JSON: ") + e.what());
    }
    if (!root.is_object()) return fail("", "the manifest must be a JSON object");

    LocalRulesManifest manifest;
    auto version = root.find("version");
    if (version == root.end()) return fail("", "missing version (must be 1 or 2)");
    if (!version->is_number_unsigned() ||
        (version->get<std::uint64_t>() != 1 && version->get<std::uint64_t>() != 2)) {
      return fail("", "version must be 1 or 2");
    }
    manifest.version = static_cast<int>(version->get<std::uint64_t>());

    auto default_rule = root.find("default");
    if (default_rule == root.end()) return fail("", "missing default");
    if (!default_rule->is_object()) return fail("default", "must be an object");
    for (const char* key : {"host", "service_name", "http_method", "url_path"}) {
      if (default_rule->contains(key)) {
        return fail("default", std::string(key) + " is not allowed in the default rule");
      }
    }
    if (!target_and_rate("default", *default_rule, manifest.default_rule)) return std::nullopt;

    auto rules = root.find("rules");
    if (rules != root.end()) {
      if (!rules->is_array()) return fail("rules", "must be an array");
      manifest.rules.reserve(rules->size());
      for (std::size_t i = 0; i < rules->size(); ++i) {
        std::string where = "rules[" + std::to_string(i) + "]";
        LocalRule rule;
        if (!parse_rule(where, (*rules)[i], manifest.version, rule)) return std::nullopt;
        manifest.rules.push_back(std::move(rule));
      }
    }
    return manifest;
  }

  const std::string& error() const noexcept { return error_; }

 private:
  std::nullopt_t fail(const std::string& where, const std::string& problem) {
    error_ = where.empty() ? problem : where + ": " + problem;
    return std::nullopt;
  }

  bool parse_rule(const std::string& where, const json& value, int version, LocalRule& rule) {
    if (!value.is_object()) {
      fail(where, "must be an object");
      return false;
    }
    // Version 1 names the host pattern service_name (aws-xray-sdk-go sampling_rule_manifest.go).
    const char* host_key = version == 1 ? "service_name" : "host";
    const char* forbidden = version == 1 ? "host" : "service_name";
    if (value.contains(forbidden)) {
      fail(where, std::string(forbidden) + " is not allowed in version " + std::to_string(version) +
                      " (use " + host_key + ")");
      return false;
    }
    if (!pattern(where, value, host_key, rule.host) ||
        !pattern(where, value, "http_method", rule.http_method) ||
        !pattern(where, value, "url_path", rule.url_path)) {
      return false;
    }
    return target_and_rate(where, value, rule);
  }

  bool pattern(const std::string& where, const json& rule, const char* key, std::string& out) {
    auto found = rule.find(key);
    if (found == rule.end()) {
      fail(where, std::string("missing ") + key);
      return false;
    }
    if (!found->is_string()) {
      fail(where, std::string(key) + " must be a string");
      return false;
    }
    out = found->get<std::string>();
    return true;
  }

  bool target_and_rate(const std::string& where, const json& rule, LocalRule& out) {
    auto target = rule.find("fixed_target");
    if (target == rule.end()) {
      fail(where, "missing fixed_target");
      return false;
    }
    // Only non-negative JSON integers: 4.2 and -1 are typos, not targets (spec §7.2 decision).
    // `-0` is an integer equal to 0 and is accepted as 0.
    const bool negative_zero = target->is_number_integer() && target->get<std::int64_t>() == 0;
    if (!target->is_number_unsigned() && !negative_zero) {
      fail(where, "fixed_target must be a non-negative integer");
      return false;
    }
    auto value = negative_zero ? 0 : target->get<std::uint64_t>();
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint32_t>::max();
    out.fixed_target = static_cast<std::uint32_t>(value < kMax ? value : kMax);

    auto rate = rule.find("rate");
    if (rate == rule.end()) {
      fail(where, "missing rate");
      return false;
    }
    // Catches percentages (5 for 5%) as well as negative rates.
    if (!rate->is_number() || rate->get<double>() < 0.0 || rate->get<double>() > 1.0) {
      fail(where, "rate must be a number in [0, 1]");
      return false;
    }
    out.rate = rate->get<double>();
    return true;
  }

  std::string error_;
};

bool present(const std::optional<std::string_view>& value) noexcept { return value && !value->empty(); }

std::vector<RulePatterns> rule_patterns(const std::vector<LocalRule>& rules) {
  std::vector<RulePatterns> patterns(rules.size());
  for (std::size_t i = 0; i < rules.size(); ++i) {
    patterns[i].host = rules[i].host;
    patterns[i].method = rules[i].http_method;
    patterns[i].url_path = rules[i].url_path;
  }
  return patterns;
}

std::string format_rate(double rate) {
  std::ostringstream out;
  out << rate;
  return out.str();
}

}  // namespace

std::optional<LocalRulesManifest> parse_local_rules(std::string_view json_text,
                                                    std::string* error) {
  ManifestParser parser;
  auto manifest = parser.parse(json_text);
  if (!manifest && error) *error = parser.error();
  return manifest;
}

std::optional<std::string> read_rules_file(const std::string& path, std::string* error) {
  auto set_error = [error](std::string problem) {
    if (error) *error = std::move(problem);
    return std::nullopt;
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return set_error(std::string("cannot open: ") + std::strerror(errno));
  std::string text;
  char buffer[16 * 1024];
  for (;;) {
    std::size_t read = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, read);
    // Read at most one byte past the limit, so a huge file (or /dev/zero) costs little.
    if (text.size() > kMaxRulesFileBytes) {
      return set_error("larger than " + std::to_string(kMaxRulesFileBytes) + " bytes");
    }
    if (read < sizeof buffer) break;
  }
  if (std::ferror(file.get())) {
    return set_error(std::string("cannot read: ") + std::strerror(errno));
  }
  return text;
}

std::shared_ptr<SamplingStrategy> make_sampling_from_rules(const Sampling& sampling,
                                                           std::string* error,
                                                           std::function<std::int64_t()> now) {
  std::string problem;
  std::string source;
  std::optional<LocalRulesManifest> manifest;
  if (sampling.rules_source() == Sampling::RulesSource::kFile) {
    source = "sampling rules file \"" + sampling.rules() + "\"";
    if (auto text = read_rules_file(sampling.rules(), &problem)) {
      manifest = parse_local_rules(*text, &problem);
    }
  } else if (sampling.rules_source() == Sampling::RulesSource::kJson) {
    source = "sampling rules JSON";
    manifest = parse_local_rules(sampling.rules(), &problem);
  } else {
    source = "sampling";
    problem = "no local rules source";
  }
  if (!manifest) {
    if (error) *error = source + ": " + problem;
    return nullptr;
  }
  return std::make_shared<LocalRulesSampling>(std::move(*manifest), std::move(now));
}

LocalRulesSampling::LocalRulesSampling(LocalRulesManifest manifest, SecondsClock now, Draw draw)
    : manifest_(std::move(manifest)),
      matcher_(rule_patterns(manifest_.rules)),
      default_reservoir_(manifest_.default_rule.fixed_target),
      now_(std::move(now)),
      draw_(std::move(draw)) {
  for (const LocalRule& rule : manifest_.rules) reservoirs_.emplace_back(rule.fixed_target);
}

std::size_t LocalRulesSampling::match(const SamplingRequest& request) const noexcept {
  // Without request information every rule would match vacuously; the spec sends it to default.
  if (!present(request.host) && !present(request.method) && !present(request.url_path)) {
    return kDefaultRule;
  }
  // An absent attribute matches any pattern (aws-xray-sdk-python local/sampling_rule.py), and an
  // empty one counts as absent (spec §7.3). Local rules have no service name or type patterns.
  const std::size_t rule = matcher_.match(request);
  return rule == RuleMatcher::kNoRule ? kDefaultRule : rule;
}

LocalRulesSampling::Match LocalRulesSampling::decide_with_rule(
    const SamplingRequest& request) noexcept {
  Match result;
  result.rule = match(request);
  const bool is_default = result.rule == kDefaultRule;
  const LocalRule& rule = is_default ? manifest_.default_rule : manifest_.rules[result.rule];
  Reservoir& reservoir = is_default ? default_reservoir_ : reservoirs_[result.rule];
  const std::int64_t now = now_ ? now_() : coarse_epoch_seconds();
  // Skip the draw for rate 0 and 1: exact either way, and cheaper.
  result.sampled =
      reservoir.take(now) ||
      (rule.rate > 0.0 && (rule.rate >= 1.0 || (draw_ ? draw_() : uniform_draw()) < rule.rate));
  return result;
}

SamplingDecision LocalRulesSampling::decide(const SamplingRequest& request) noexcept {
  SamplingDecision decision;
  decision.sampled = decide_with_rule(request).sampled;
  return decision;
}

std::string LocalRulesSampling::describe() const {
  return "local rules (version " + std::to_string(manifest_.version) +
         "): " + std::to_string(manifest_.rules.size()) + " rule(s), " +
         describe_rule(kDefaultRule);
}

std::string LocalRulesSampling::describe_rule(std::size_t index) const {
  const bool is_default = index == kDefaultRule || index >= manifest_.rules.size();
  const LocalRule& rule = is_default ? manifest_.default_rule : manifest_.rules[index];
  std::string out;
  if (is_default) {
    out = "default rule";
  } else {
    out = "rule " + std::to_string(index) + " (" +
          (manifest_.version == 1 ? "service_name" : "host") + " \"" + rule.host +
          "\", http_method \"" + rule.http_method + "\", url_path \"" + rule.url_path + "\")";
  }
  return out + ": " + std::to_string(rule.fixed_target) + " per second, then rate " +
         format_rate(rule.rate);
}

}  // namespace detail

std::shared_ptr<SamplingStrategy> make_local_rules_sampling(std::string_view json_text,
                                                            std::string* error) {
  auto manifest = detail::parse_local_rules(json_text, error);
  if (!manifest) return nullptr;
  return std::make_shared<detail::LocalRulesSampling>(std::move(*manifest));
}

}  // namespace xray
