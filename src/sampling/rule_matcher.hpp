// Internal: which sampling rule applies to a request, compiled once when the rules load. Shared by
// local rules (spec §7.2: host, http_method, url_path) and centralized rules (spec §7.4: the five
// patterns).
//
//   std::vector<RulePatterns> patterns(rules.size());
//   patterns[0].method = "GET";
//   patterns[0].url_path = "/api/*";
//   RuleMatcher matcher(patterns);
//   std::size_t rule = matcher.match(request);   // first rule whose patterns all match, or kNoRule
//
// Same answer as trying every rule in order with wildcard_match, where an absent or empty request
// attribute matches any pattern (spec §7.3). What compiling buys:
// - every distinct pattern becomes one WildcardPattern (any, literal, prefix, suffix, ...); `*`
//   is no check at all;
// - a rule's checks run cheapest first (a literal method before a wildcard host), after an inline
//   filter on the URLPath's fixed head or tail (one or two word compares), which for a literal,
//   prefix or suffix path of up to 16 bytes is the whole path check;
// - consecutive rules that differ only in URLPath form a group whose other checks run once per
//   decision, not once per rule;
// - rules whose URLPath is a literal are found through a case-folded hash of the request's path:
//   a decision tests the rules with a wildcard URLPath and those whose literal URLPath equals the
//   request's, never every literal rule (the bound issue 14 set for hostile rule sets).
// A decision neither allocates nor locks.
//
// Thread safety: immutable after construction; `match` is safe from any number of threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "sampling/wildcard_pattern.hpp"
#include "xray/sampling.hpp"

namespace xray::detail {

// One rule's patterns, viewed only while a RuleMatcher is built; "*" where a rule has none.
struct RulePatterns {
  std::string_view service_name = "*";
  std::string_view service_type = "*";
  std::string_view host = "*";
  std::string_view method = "*";
  std::string_view url_path = "*";
};

// Case-folded (ASCII) hash of `text`, 8 bytes at a time: equal for texts that differ only in the
// case of ASCII letters.
std::uint64_t folded_hash(std::string_view text) noexcept;

// Thread safety: immutable after construction.
class RuleMatcher {
 public:
  static constexpr std::size_t kNoRule = static_cast<std::size_t>(-1);

  RuleMatcher() = default;  // no rules: match() is always kNoRule
  explicit RuleMatcher(const std::vector<RulePatterns>& rules);

  // Index of the first rule, in the order given, whose patterns all match `request`, or kNoRule.
  std::size_t match(const SamplingRequest& request) const noexcept;

  std::size_t size() const noexcept { return rules_.size(); }
  // Distinct patterns compiled (every rule's "*" included once), for tests and the benchmark.
  std::size_t distinct_patterns() const noexcept { return patterns_.size(); }
  // Rules that the path index leaves out of a decision unless the path is theirs.
  std::size_t literal_path_rules() const noexcept { return literal_rules_.size(); }

 private:
  enum Attribute : std::uint8_t { kServiceName, kServiceType, kHost, kMethod, kUrlPath, kCount };
  using Values = std::array<std::string_view, kCount>;  // empty = absent
  struct Range {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
  };
  struct Check {
    std::uint32_t pattern;  // index into patterns_
    Attribute attribute;
  };
  struct Rule {
    std::uint32_t group = 0;
    Range checks;  // into checks_: what this rule tests beyond its group's checks and `path`
    WildcardPattern::Filter path;  // URLPath's filter, tested first; its check is dropped if exact
  };
  struct Group {
    Range checks;  // tested once for all the group's rules
    Range rules;
  };
  struct Slot {
    std::uint64_t hash = 0;
    Range rules;  // into literal_rules_; empty: a free slot
  };

  bool passes(const Rule& rule, const Values& values) const noexcept {
    const std::string_view path = values[kUrlPath];
    return (path.empty() || rule.path.passes(path)) && passes(rule.checks, values);
  }
  bool passes(Range checks, const Values& values) const noexcept {
    for (std::uint32_t i = checks.begin; i < checks.end; ++i) {
      const Check& check = checks_[i];
      const std::string_view value = values[check.attribute];
      if (!value.empty() && !patterns_[check.pattern].matches(value)) return false;
    }
    return true;
  }
  std::size_t match_all(const Values& values) const noexcept;
  std::size_t match_indexed(const Values& values) const noexcept;
  Range literal_candidates(std::uint64_t hash) const noexcept;

  std::vector<WildcardPattern> patterns_;
  std::vector<Check> checks_;
  std::vector<Rule> rules_;
  std::vector<Group> groups_;
  std::vector<Slot> slots_;                  // open addressing; size a power of two, or empty
  std::vector<std::uint32_t> literal_rules_;  // rules with a literal URLPath, by slot, ascending
  std::vector<std::uint32_t> other_rules_;    // the rest, ascending
};

}  // namespace xray::detail
