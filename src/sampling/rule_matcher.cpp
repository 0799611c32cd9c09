#include "sampling/rule_matcher.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace xray::detail {
namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ull;

// ASCII A-Z to a-z in each byte of `word`; every other byte unchanged.
std::uint64_t fold_word(std::uint64_t word) noexcept {
  const std::uint64_t low7 = word & (0x7f * kOnes);
  const std::uint64_t at_least_a = low7 + (0x80 - 'A') * kOnes;     // high bit: byte >= 'A'
  const std::uint64_t above_z = low7 + (0x80 - 'Z' - 1) * kOnes;   // high bit: byte > 'Z'
  const std::uint64_t upper = at_least_a & ~above_z & ~word & (0x80 * kOnes);
  return word | (upper >> 2);
}

std::uint64_t mix(std::uint64_t hash, std::uint64_t word) noexcept {
  hash = (hash ^ word) * 0x9E3779B97F4A7C15ull;
  return hash ^ (hash >> 29);
}

bool all_stars(std::string_view pattern) noexcept {
  return !pattern.empty() && pattern.find_first_not_of('*') == std::string_view::npos;
}

}  // namespace

std::uint64_t folded_hash(std::string_view text) noexcept {
  std::uint64_t hash = mix(0x243F6A8885A308D3ull, text.size());
  const char* p = text.data();
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, sizeof word);
    hash = mix(hash, fold_word(word));
  }
  if (i < text.size()) {
    std::uint64_t word = 0;
    std::memcpy(&word, p + i, text.size() - i);
    hash = mix(hash, fold_word(word));
  }
  return hash;
}

RuleMatcher::RuleMatcher(const std::vector<RulePatterns>& rules) {
  if (rules.size() >= std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("too many sampling rules");
  }
  // Intern: one compiled pattern per distinct text; all-star patterns are the same "any".
  std::unordered_map<std::string, std::uint32_t> interned;
  auto intern = [&](std::string_view text) {
    std::string key(all_stars(text) ? std::string_view("*") : text);
    auto found = interned.find(key);
    if (found != interned.end()) return found->second;
    const auto index = static_cast<std::uint32_t>(patterns_.size());
    patterns_.emplace_back(key);
    interned.emplace(std::move(key), index);
    return index;
  };
  std::vector<std::array<std::uint32_t, kCount>> ids(rules.size());
  for (std::size_t i = 0; i < rules.size(); ++i) {
    ids[i][kServiceName] = intern(rules[i].service_name);
    ids[i][kServiceType] = intern(rules[i].service_type);
    ids[i][kHost] = intern(rules[i].host);
    ids[i][kMethod] = intern(rules[i].method);
    ids[i][kUrlPath] = intern(rules[i].url_path);
  }

  // Checks cheapest first; equal costs in this order (short, then usually discriminating last).
  static constexpr Attribute kOrder[] = {kMethod, kHost, kServiceName, kServiceType, kUrlPath};
  auto add_checks = [&](const std::array<std::uint32_t, kCount>& rule, bool with_path,
                        bool with_others) {
    Range range;
    range.begin = static_cast<std::uint32_t>(checks_.size());
    for (Attribute attribute : kOrder) {
      if ((attribute == kUrlPath ? !with_path : !with_others)) continue;
      if (patterns_[rule[attribute]].kind() == WildcardPattern::Kind::kAny) continue;
      checks_.push_back({rule[attribute], attribute});
    }
    std::stable_sort(checks_.begin() + range.begin, checks_.end(),
                     [this](const Check& a, const Check& b) {
                       return patterns_[a.pattern].cost() < patterns_[b.pattern].cost();
                     });
    range.end = static_cast<std::uint32_t>(checks_.size());
    return range;
  };
  auto same_but_path = [&](std::size_t a, std::size_t b) {
    return ids[a][kServiceName] == ids[b][kServiceName] &&
           ids[a][kServiceType] == ids[b][kServiceType] && ids[a][kHost] == ids[b][kHost] &&
           ids[a][kMethod] == ids[b][kMethod];
  };

  rules_.resize(rules.size());
  for (std::size_t first = 0; first < rules.size();) {
    std::size_t end = first + 1;
    while (end < rules.size() && same_but_path(first, end)) ++end;
    Group group;
    group.rules = {static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(end)};
    const bool shared = end - first > 1;
    if (shared) group.checks = add_checks(ids[first], false, true);
    const auto group_index = static_cast<std::uint32_t>(groups_.size());
    for (std::size_t i = first; i < end; ++i) {
      const WildcardPattern& path = patterns_[ids[i][kUrlPath]];
      rules_[i].group = group_index;
      rules_[i].path = path.filter();
      rules_[i].checks = add_checks(ids[i], !rules_[i].path.exact, !shared);
    }
    groups_.push_back(group);
    first = end;
  }

  // The URLPath index: literal paths (no `*`, no `?`) by folded hash.
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> by_hash;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const WildcardPattern& path = patterns_[ids[i][kUrlPath]];
    const bool literal = path.kind() == WildcardPattern::Kind::kLiteral &&
                         path.pattern().find('?') == std::string::npos;
    if (literal) {
      by_hash[folded_hash(path.pattern())].push_back(static_cast<std::uint32_t>(i));
    } else {
      other_rules_.push_back(static_cast<std::uint32_t>(i));
    }
  }
  if (!by_hash.empty()) {
    std::size_t capacity = 8;
    while (capacity < by_hash.size() * 2) capacity *= 2;
    slots_.resize(capacity);
    literal_rules_.reserve(rules.size() - other_rules_.size());
    for (auto& [hash, indexes] : by_hash) {
      std::size_t slot = hash & (capacity - 1);
      while (slots_[slot].rules.begin != slots_[slot].rules.end) slot = (slot + 1) & (capacity - 1);
      slots_[slot].hash = hash;
      slots_[slot].rules.begin = static_cast<std::uint32_t>(literal_rules_.size());
      literal_rules_.insert(literal_rules_.end(), indexes.begin(), indexes.end());  // ascending
      slots_[slot].rules.end = static_cast<std::uint32_t>(literal_rules_.size());
    }
  }
}

RuleMatcher::Range RuleMatcher::literal_candidates(std::uint64_t hash) const noexcept {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    const Slot& candidate = slots_[slot];
    if (candidate.rules.begin == candidate.rules.end || candidate.hash == hash) {
      return candidate.rules;  // a free slot ends the probe: no literal rule has this path
    }
  }
}

std::size_t RuleMatcher::match(const SamplingRequest& request) const noexcept {
  auto value = [](const std::optional<std::string_view>& attribute) {
    return attribute ? *attribute : std::string_view();
  };
  Values values;
  values[kServiceName] = value(request.service_name);
  values[kServiceType] = value(request.service_type);
  values[kHost] = value(request.host);
  values[kMethod] = value(request.method);
  values[kUrlPath] = value(request.url_path);
  // Without a path every literal-path rule applies too: test them all.
  if (slots_.empty() || values[kUrlPath].empty()) return match_all(values);
  return match_indexed(values);
}

std::size_t RuleMatcher::match_all(const Values& values) const noexcept {
  for (const Group& group : groups_) {
    if (!passes(group.checks, values)) continue;
    for (std::uint32_t rule = group.rules.begin; rule < group.rules.end; ++rule) {
      if (passes(rules_[rule], values)) return rule;
    }
  }
  return kNoRule;
}

std::size_t RuleMatcher::match_indexed(const Values& values) const noexcept {
  const Range exact = literal_candidates(folded_hash(values[kUrlPath]));
  // Merge the two ascending candidate lists, testing in decision order; a group's shared checks
  // run once, when its first candidate comes up.
  std::uint32_t a = exact.begin;
  std::size_t b = 0;
  std::uint32_t group = std::numeric_limits<std::uint32_t>::max();
  bool group_passes = false;
  while (a < exact.end || b < other_rules_.size()) {
    std::uint32_t next;
    if (b == other_rules_.size() || (a < exact.end && literal_rules_[a] < other_rules_[b])) {
      next = literal_rules_[a++];
    } else {
      next = other_rules_[b++];
    }
    const Rule& rule = rules_[next];
    if (rule.group != group) {
      group = rule.group;
      group_passes = passes(groups_[group].checks, values);
    }
    if (group_passes && passes(rule, values)) return next;
  }
  return kNoRule;
}

}  // namespace xray::detail
