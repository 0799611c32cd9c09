#include "sampling/rule_matcher.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "xray/wildcard.hpp"

namespace xray::detail {
namespace {

// Rule patterns that own their text (RulePatterns only views it).
struct Rule {
  std::string service_name = "*";
  std::string service_type = "*";
  std::string host = "*";
  std::string method = "*";
  std::string url_path = "*";
};

RuleMatcher compile(const std::vector<Rule>& rules) {
  std::vector<RulePatterns> patterns;
  for (const Rule& rule : rules) {
    patterns.push_back({rule.service_name, rule.service_type, rule.host, rule.method, rule.url_path});
  }
  return RuleMatcher(patterns);
}

// What the matcher must answer: every rule in order, wildcard_match on each present attribute.
std::size_t reference(const std::vector<Rule>& rules, const SamplingRequest& request) {
  auto applies = [](const std::string& pattern, const std::optional<std::string_view>& value) {
    return !value || value->empty() || wildcard_match(pattern, *value);
  };
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const Rule& rule = rules[i];
    if (applies(rule.service_name, request.service_name) &&
        applies(rule.service_type, request.service_type) && applies(rule.host, request.host) &&
        applies(rule.method, request.method) && applies(rule.url_path, request.url_path)) {
      return i;
    }
  }
  return RuleMatcher::kNoRule;
}

SamplingRequest request(const char* method, const char* host, const char* path) {
  SamplingRequest r;
  if (method) r.method = method;
  if (host) r.host = host;
  if (path) r.url_path = path;
  return r;
}

TEST(RuleMatcher, NoRulesMatchNothing) {
  EXPECT_EQ(RuleMatcher().match(request("GET", "a", "/")), RuleMatcher::kNoRule);
  EXPECT_EQ(compile({}).match(SamplingRequest{}), RuleMatcher::kNoRule);
}

TEST(RuleMatcher, FirstMatchInOrderAcrossGroupsAndTheLiteralIndex) {
  std::vector<Rule> rules(7);
  rules[0].method = "POST";
  rules[0].url_path = "/api/*";
  rules[1].host = "*.example.com";
  rules[1].method = "GET";
  rules[1].url_path = "/api/service0/*";
  rules[2].host = "*.example.com";
  rules[2].method = "GET";
  rules[2].url_path = "/health";             // literal: found through the index
  rules[3].host = "*.example.com";
  rules[3].method = "GET";
  rules[3].url_path = "/api/service1*";
  rules[4].url_path = "/HEALTH";            // same folded literal as rule 2
  rules[5].service_name = "orders";
  rules[5].url_path = "/api/*/items";
  rules[6] = Rule{};                         // everything
  const RuleMatcher matcher = compile(rules);
  EXPECT_EQ(matcher.size(), 7u);
  EXPECT_EQ(matcher.literal_path_rules(), 2u);
  EXPECT_EQ(matcher.match(request("post", "a.example.com", "/api/service0/x")), 0u);
  EXPECT_EQ(matcher.match(request("GET", "a.example.com", "/api/service0/x")), 1u);
  EXPECT_EQ(matcher.match(request("GET", "a.EXAMPLE.com", "/Health")), 2u);
  EXPECT_EQ(matcher.match(request("GET", "other.org", "/health")), 4u);
  EXPECT_EQ(matcher.match(request("GET", "a.example.com", "/api/service10")), 3u);
  EXPECT_EQ(matcher.match(request("GET", "other.org", "/api/service1")), 6u);
  SamplingRequest named = request("GET", "other.org", "/api/v1/items");
  named.service_name = "Orders";
  EXPECT_EQ(matcher.match(named), 5u);
  // Absent or empty attributes match any pattern; without a path every literal rule applies.
  EXPECT_EQ(matcher.match(request(nullptr, nullptr, nullptr)), 0u);
  EXPECT_EQ(matcher.match(request("GET", "", "")), 1u);
  EXPECT_EQ(matcher.match(request("GET", "other.org", nullptr)), 4u);
  EXPECT_EQ(matcher.match(request("GET", nullptr, "/health")), 2u);
}

TEST(RuleMatcher, SharesPatternsAndGroupsRulesThatDifferOnlyInPath) {
  std::vector<Rule> rules(20);
  for (int i = 0; i < 20; ++i) {
    rules[i].host = "*.example.com";
    rules[i].method = "GET";
    rules[i].url_path = "/api/service" + std::to_string(i) + "/*";
  }
  const RuleMatcher matcher = compile(rules);
  EXPECT_EQ(matcher.distinct_patterns(), 23u);  // "*", the host, the method, 20 paths
  EXPECT_EQ(matcher.match(request("GET", "shop.example.com", "/api/service10/orders/42")), 10u);
  EXPECT_EQ(matcher.match(request("PUT", "shop.example.com", "/api/service10/orders/42")),
            RuleMatcher::kNoRule);
  EXPECT_EQ(matcher.match(request("GET", "shop.example.org", "/api/service10/orders/42")),
            RuleMatcher::kNoRule);
  EXPECT_EQ(matcher.match(request("GET", "shop.example.com", "/static/app.js")),
            RuleMatcher::kNoRule);
}

TEST(RuleMatcher, FoldedHashIgnoresAsciiCaseOnly) {
  for (std::size_t size = 0; size <= 40; ++size) {
    std::string lower;
    for (std::size_t i = 0; i < size; ++i) lower += static_cast<char>('a' + i % 26);
    std::string upper = lower;
    for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
    EXPECT_EQ(folded_hash(lower), folded_hash(upper)) << size;
    if (size > 0) {
      std::string other = lower;
      other[size - 1] = '{';  // 0x20 from '[', not a letter
      EXPECT_NE(folded_hash(other), folded_hash(lower)) << size;
      EXPECT_NE(folded_hash(lower.substr(0, size - 1)), folded_hash(lower)) << size;
    }
  }
  EXPECT_NE(folded_hash("["), folded_hash("{"));
  EXPECT_NE(folded_hash(std::string("a\0", 2)), folded_hash("a"));
}

// Random rule sets from small pattern pools (so rules share patterns, form groups, and literal
// paths collide in case), checked against the plain in-order scan on random requests.
TEST(RuleMatcher, AgreesWithTheInOrderScanOnGeneratedRuleSets) {
  std::mt19937 engine(424242);
  auto pick = [&engine](const std::vector<const char*>& pool) {
    return std::string(pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(engine)]);
  };
  const std::vector<const char*> names = {"*", "*", "orders", "Orders*", "*-api", "o?ders"};
  const std::vector<const char*> types = {"*", "*", "AWS::EC2::Instance", "AWS::*"};
  const std::vector<const char*> hosts = {"*", "*", "*.example.com", "shop.example.com", "*.org",
                                          "s?op.*", "*shop*"};
  const std::vector<const char*> methods = {"*", "*", "GET", "POST", "G*", "?ET"};
  const std::vector<const char*> paths = {"*", "/", "/health", "/HEALTH", "/api/*", "/api/v?/*",
                                          "/api/*/items", "*.js", "/api/v1/items", "/Api/V1/Items",
                                          "/static/*", "/a", "/api/*/*", ""};
  const std::vector<const char*> request_names = {"orders", "ORDERS", "billing", "my-api", ""};
  const std::vector<const char*> request_types = {"AWS::EC2::Instance", "AWS::ECS::Container", ""};
  const std::vector<const char*> request_hosts = {"shop.example.com", "SHOP.example.org", "x.org",
                                                  "localhost", ""};
  const std::vector<const char*> request_methods = {"GET", "get", "POST", "PUT", ""};
  const std::vector<const char*> request_paths = {"/", "/health", "/Health", "/api/v1/items",
                                                  "/API/V1/ITEMS", "/api/v2/x", "/static/app.js",
                                                  "/a", "/b", "/api/\xc3\xa9/items", ""};
  for (int set = 0; set < 300; ++set) {
    std::vector<Rule> rules(std::uniform_int_distribution<std::size_t>(0, 30)(engine));
    for (std::size_t i = 0; i < rules.size(); ++i) {
      if (i > 0 && engine() % 3 == 0) {
        rules[i] = rules[i - 1];  // same but the path: a group
        rules[i].url_path = pick(paths);
        continue;
      }
      rules[i].service_name = pick(names);
      rules[i].service_type = pick(types);
      rules[i].host = pick(hosts);
      rules[i].method = pick(methods);
      rules[i].url_path = pick(paths);
    }
    const RuleMatcher matcher = compile(rules);
    for (int r = 0; r < 200; ++r) {
      SamplingRequest probe;
      auto maybe = [&engine](const std::vector<const char*>& pool)
          -> std::optional<std::string_view> {
        if (engine() % 5 == 0) return std::nullopt;
        return std::string_view(pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(engine)]);
      };
      probe.service_name = maybe(request_names);
      probe.service_type = maybe(request_types);
      probe.host = maybe(request_hosts);
      probe.method = maybe(request_methods);
      probe.url_path = maybe(request_paths);
      ASSERT_EQ(matcher.match(probe), reference(rules, probe)) << "set " << set << " request " << r;
    }
  }
}

}  // namespace
}  // namespace xray::detail
