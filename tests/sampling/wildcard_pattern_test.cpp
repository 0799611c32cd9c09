#include "sampling/wildcard_pattern.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "xray/wildcard.hpp"

namespace xray::detail {
namespace {

using Kind = WildcardPattern::Kind;

// Whether the compiled pattern agrees with the reference matcher, and its filter is a necessary
// condition (and a sufficient one when it says it is exact).
::testing::AssertionResult agrees(const std::string& pattern, const std::string& text,
                                  bool case_insensitive = true) {
  const WildcardPattern compiled(pattern, case_insensitive);
  const bool expected = wildcard_match(pattern, text, case_insensitive);
  const bool actual = compiled.matches(text);
  const WildcardPattern::Filter filter = compiled.filter();
  const bool filtered = filter.passes(text);
  if (actual == expected && (!expected || filtered) && (!filter.exact || filtered == expected)) {
    return ::testing::AssertionSuccess();
  }
  auto escaped = [](const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      if (c >= 0x20 && c < 0x7f) {
        out += static_cast<char>(c);
      } else {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
      }
    }
    return out;
  };
  return ::testing::AssertionFailure()
         << "pattern \"" << escaped(pattern) << "\" (" << to_string(compiled.kind()) << ") text \""
         << escaped(text) << "\" case_insensitive " << case_insensitive << ": reference "
         << expected << ", compiled " << actual << ", filter " << filtered
         << (filter.exact ? " (exact)" : "");
}

TEST(WildcardPattern, ClassifiesByShape) {
  const std::pair<const char*, Kind> cases[] = {
      {"*", Kind::kAny},
      {"***", Kind::kAny},
      {"", Kind::kLiteral},
      {"GET", Kind::kLiteral},
      {"f?o", Kind::kLiteral},
      {"?", Kind::kLiteral},
      {"/api/*", Kind::kPrefix},
      {"/api/**", Kind::kPrefix},
      {"/v?/*", Kind::kPrefix},
      {"?*", Kind::kPrefix},
      {"*.example.com", Kind::kSuffix},
      {"**.com", Kind::kSuffix},
      {"*caf\xc3\xa9", Kind::kSuffix},  // a tail may start with a lead byte
      {"/api/*/orders", Kind::kPrefixSuffix},
      {"a**b", Kind::kPrefixSuffix},
      {"?x*y", Kind::kPrefixSuffix},
      {"*a*", Kind::kGeneral},
      {"a*b*c", Kind::kGeneral},
      {"*?", Kind::kGeneral},               // `?` in the tail
      {"*a?", Kind::kGeneral},
      {"a*?b", Kind::kGeneral},
      {"*\xa9x", Kind::kGeneral},           // a tail starting with a continuation byte
      {"hello.*.com", Kind::kPrefixSuffix},
  };
  for (const auto& [pattern, kind] : cases) {
    EXPECT_EQ(to_string(WildcardPattern(pattern).kind()), std::string(to_string(kind))) << pattern;
  }
  EXPECT_EQ(WildcardPattern().kind(), Kind::kAny);
}

TEST(WildcardPattern, SpecVectorsForEveryKind) {
  // Pairs of the spec §7.3 table, each kind represented.
  const char* const pairs[][2] = {
      {"*", ""},           {"*", "cAr"},          {"**", "foo"},         {"", ""},
      {"", "whatever"},    {"foo", "Foo"},        {"GET", "POST"},       {"abcd", "abc"},
      {"?", "a"},          {"?", ""},             {"??", "a"},           {"fo?", "foo"},
      {"f?o", "boo"},      {"????", "chevy"},     {"??*", "a"},          {"??*", "abcdef"},
      {"foo*", "foo"},     {"foo*", "fo0"},       {"J*", "Jeep"},        {"*s", "horses"},
      {"*/foo", "/bar/foo"}, {"*a", "a"},         {"a*a", "a"},          {"a*a", "aa"},
      {"a**b", "ab"},      {"mis*spell", "misspell"}, {"*.amazon.com", "moop.amazon.com"},
      {"*.amazon.com", "moop.amazon.org"}, {"hello.*.com", "hello.moop.com"},
      {"amazon.*.com", "anazon.moop.com"}, {"moop.amazon.*", "noop.amazon.org"},
      {"?ray.amazon.com", "xray.amazon.com"}, {"f?o*ba*", "foobazbar"},
  };
  for (const auto& pair : pairs) EXPECT_TRUE(agrees(pair[0], pair[1]));
}

TEST(WildcardPattern, EmptyPatternsAndTexts) {
  for (const char* pattern : {"", "*", "**", "?", "a", "a*", "*a", "a*b", "?*", "*?", "a?", "?a*b"}) {
    EXPECT_TRUE(agrees(pattern, ""));
    EXPECT_TRUE(agrees(pattern, "a"));
    EXPECT_TRUE(agrees(pattern, "ab"));
  }
  EXPECT_TRUE(WildcardPattern("").matches(""));
  EXPECT_FALSE(WildcardPattern("").matches("x"));
  EXPECT_TRUE(WildcardPattern("*").matches(""));
  EXPECT_FALSE(WildcardPattern("a*").matches(""));
  EXPECT_FALSE(WildcardPattern("*a").matches(""));
}

TEST(WildcardPattern, QuestionMarksInPrefixAndPrefixSuffixPatterns) {
  const std::string e_acute = "\xc3\xa9";
  const std::string grinning = "\xf0\x9f\x98\x80";
  const WildcardPattern prefix("/v?/*");
  EXPECT_EQ(prefix.kind(), Kind::kPrefix);
  EXPECT_TRUE(prefix.matches("/v1/users"));
  EXPECT_TRUE(prefix.matches("/V2/"));
  EXPECT_TRUE(prefix.matches("/v" + e_acute + "/x"));     // `?` is one character, 2 bytes
  EXPECT_TRUE(prefix.matches("/v" + grinning + "/"));     // or 4
  EXPECT_FALSE(prefix.matches("/v12/users"));
  EXPECT_FALSE(prefix.matches("/v/"));
  EXPECT_FALSE(prefix.matches("/v"));
  const WildcardPattern both("?a?*.com");
  EXPECT_EQ(both.kind(), Kind::kPrefixSuffix);
  EXPECT_TRUE(both.matches("xay.com"));
  EXPECT_TRUE(both.matches(e_acute + "A" + grinning + "shop.COM"));
  EXPECT_FALSE(both.matches("xa.com"));
  EXPECT_FALSE(both.matches("xay.co"));
  // A literal with `?`: the whole text.
  const WildcardPattern literal("ab?c");
  EXPECT_EQ(literal.kind(), Kind::kLiteral);
  EXPECT_TRUE(literal.matches("ab" + e_acute + "c"));
  EXPECT_FALSE(literal.matches("abxxc"));
  EXPECT_FALSE(literal.matches("abxcd"));
  // An invalid byte counts as one character.
  EXPECT_TRUE(WildcardPattern("a?c*").matches("a\xff" "c"));
  EXPECT_TRUE(WildcardPattern("a??*").matches("a\xc3" "a"));
  for (const std::string& text : {"/v" + e_acute + "/x", std::string("a\xc3" "a"), grinning + "a.com",
                                  std::string("\xc3"), std::string("\xc3\xa9\xa9")}) {
    for (const char* pattern : {"/v?/*", "?a?*.com", "ab?c", "a?c*", "a??*", "?*", "??*", "?\xa9*",
                                "\xc3?*", "?*\xa9", "?*a", "*\xa9"}) {
      EXPECT_TRUE(agrees(pattern, text));
    }
  }
}

TEST(WildcardPattern, SuffixesStartOnCharacterBoundaries) {
  // `*` swallows whole characters: "*\xa9" cannot end inside "é" (c3 a9); such tails go to the
  // general matcher, which knows this.
  EXPECT_FALSE(wildcard_match("*\xa9", "\xc3\xa9"));
  EXPECT_FALSE(WildcardPattern("*\xa9").matches("\xc3\xa9"));
  EXPECT_TRUE(WildcardPattern("*\xa9").matches("\xa9"));
  EXPECT_TRUE(WildcardPattern("*\xc3\xa9").matches("caf\xc3\xa9"));
  EXPECT_TRUE(WildcardPattern("x*\xc3\xa9").matches("x\xc3\xa9"));
  EXPECT_FALSE(WildcardPattern("x\xc3*\xc3\xa9").matches("x\xc3\xa9"));  // tail overlaps head
}

TEST(WildcardPattern, FoldsAsciiLettersOnly) {
  EXPECT_TRUE(WildcardPattern("*.Example.COM").matches("shop.example.com"));
  EXPECT_TRUE(WildcardPattern("/API/*").matches("/api/orders"));
  EXPECT_TRUE(WildcardPattern("get").matches("GET"));
  EXPECT_TRUE(WildcardPattern("caf\xc3\xa9*").matches("CAF\xc3\xa9!"));
  EXPECT_FALSE(WildcardPattern("caf\xc3\xa9").matches("caf\xc3\x89"));  // é / É: not folded
  EXPECT_FALSE(WildcardPattern("\xc3\x84").matches("\xc3\xa4"));        // Ä / ä
  // Bytes that differ by 0x20 but are not letters never match each other, at every length
  // (one word, two words, the long loop).
  const std::pair<char, char> near_misses[] = {{'[', '{'}, {'@', '`'}, {']', '}'}, {'^', '~'},
                                               {'\\', '|'}, {'_', '\x7f'}, {'\x01', '!'},
                                               {'\xc1', '\xe1'}, {'\x0d', '-'}};
  for (std::size_t size = 1; size <= 40; ++size) {
    for (std::size_t at = 0; at < size; ++at) {
      for (const auto& [a, b] : near_misses) {
        std::string pattern(size, 'k');
        pattern[at] = a;
        std::string text(size, 'K');
        text[at] = b;
        EXPECT_FALSE(WildcardPattern(pattern).matches(text)) << size << " " << at;
        EXPECT_FALSE(WildcardPattern(pattern + "*").matches(text + "x")) << size << " " << at;
        EXPECT_FALSE(WildcardPattern("*" + pattern).matches("x" + text)) << size << " " << at;
        text[at] = a;
        EXPECT_TRUE(WildcardPattern(pattern).matches(text)) << size << " " << at;
      }
    }
  }
}

TEST(WildcardPattern, EveryLengthAndMismatchPosition) {
  // Literal runs are compared in words of up to 8 bytes; a difference must be seen wherever it is.
  std::mt19937 engine(7);
  std::uniform_int_distribution<int> letter(0, 25);
  for (std::size_t size = 0; size <= 40; ++size) {
    std::string pattern(size, ' ');
    for (char& c : pattern) c = static_cast<char>('a' + letter(engine));
    std::string upper = pattern;
    for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
    for (const std::string& shape : {std::string("L"), std::string("P"), std::string("S"),
                                     std::string("PS")}) {
      std::string compiled_text = shape == "L" ? pattern
                                  : shape == "P" ? pattern + "*"
                                  : shape == "S" ? "*" + pattern
                                                 : pattern + "*" + pattern;
      const WildcardPattern compiled(compiled_text);
      std::string text = shape == "L" ? upper
                         : shape == "P" ? upper + "/rest"
                         : shape == "S" ? "head/" + upper
                                        : upper + "/middle/" + upper;
      EXPECT_TRUE(compiled.matches(text)) << compiled_text << " " << text;
      EXPECT_TRUE(agrees(compiled_text, text));
      for (std::size_t at = 0; at < text.size(); ++at) {
        std::string changed = text;
        changed[at] = changed[at] == '#' ? '%' : '#';
        EXPECT_TRUE(agrees(compiled_text, changed));
      }
      if (!text.empty()) {
        EXPECT_TRUE(agrees(compiled_text, text.substr(1)));
        EXPECT_TRUE(agrees(compiled_text, text.substr(0, text.size() - 1)));
      }
    }
  }
}

TEST(WildcardPattern, CaseSensitiveMode) {
  EXPECT_FALSE(WildcardPattern("Foo", false).matches("FOO"));
  EXPECT_FALSE(WildcardPattern("Fo*", false).matches("FOo0"));
  EXPECT_FALSE(WildcardPattern("Fo?", false).matches("FOo"));
  EXPECT_TRUE(WildcardPattern("Fo?", false).matches("FoO"));
  EXPECT_FALSE(WildcardPattern("*.Example.com", false).matches("a.example.com"));
  EXPECT_TRUE(WildcardPattern("*.Example.com", false).matches("a.Example.com"));
}

// Random patterns and texts over an alphabet that makes every class and every trap likely: cases,
// wildcards, non-letters 0x20 apart, a 2-byte and a 4-byte character, lone lead, continuation and
// invalid bytes. Texts are either random or made from the pattern (so matches are common), then
// sometimes mutated.
class Generator {
 public:
  explicit Generator(std::uint32_t seed) : engine_(seed) {}

  std::string pattern() {
    std::string out;
    const int length = uniform(0, 12);
    for (int i = 0; i < length; ++i) {
      const int pick = uniform(0, 9);
      if (pick < 2) {
        out += '*';
      } else if (pick < 3) {
        out += '?';
      } else {
        out += token();
      }
    }
    return out;
  }

  std::string text_for(const std::string& pattern) {
    if (uniform(0, 3) == 0) return random_text();
    std::string out;
    for (char c : pattern) {
      if (c == '*') {
        const int count = uniform(0, 3);
        for (int i = 0; i < count; ++i) out += token();
      } else if (c == '?') {
        out += token();
      } else {
        out += uniform(0, 1) ? flip_case(c) : c;
      }
    }
    if (!out.empty() && uniform(0, 4) == 0) {
      out[static_cast<std::size_t>(uniform(0, static_cast<int>(out.size()) - 1))] = token()[0];
    }
    return out;
  }

 private:
  std::string random_text() {
    std::string out;
    const int length = uniform(0, 14);
    for (int i = 0; i < length; ++i) out += token();
    return out;
  }

  std::string token() {
    static const char* const kTokens[] = {"a", "A", "b", "B", "z", "/", ".", "[", "{", "@", "`",
                                          "*", "?", "\xc3\xa9", "\xc3\x89", "\xf0\x9f\x98\x80",
                                          "\xc3", "\xa9", "\x80", "\xff", "\xe2\x82", "0"};
    return kTokens[uniform(0, static_cast<int>(std::size(kTokens)) - 1)];
  }

  static char flip_case(char c) {
    if (c >= 'a' && c <= 'z') return static_cast<char>(c - 'a' + 'A');
    if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
    return c;
  }

  int uniform(int low, int high) { return std::uniform_int_distribution<int>(low, high)(engine_); }

  std::mt19937 engine_;
};

TEST(WildcardPattern, AgreesWithTheReferenceOnGeneratedPairs) {
  Generator generator(20240611);
  int compared = 0;
  int matched = 0;
  int kinds[6] = {0, 0, 0, 0, 0, 0};
  for (int p = 0; p < 6000; ++p) {
    const std::string pattern = generator.pattern();
    ++kinds[static_cast<int>(WildcardPattern(pattern).kind())];
    for (int t = 0; t < 20; ++t) {
      const std::string text = generator.text_for(pattern);
      for (bool case_insensitive : {true, false}) {
        ASSERT_TRUE(agrees(pattern, text, case_insensitive));
        ++compared;
        matched += wildcard_match(pattern, text, case_insensitive) ? 1 : 0;
      }
    }
  }
  // The generator reaches every kind and both answers often.
  for (int count : kinds) EXPECT_GT(count, 20);
  EXPECT_GT(matched, compared / 10);
  EXPECT_LT(matched, compared * 9 / 10);
}

TEST(WildcardPattern, LongTextsStayLinear) {
  std::string text(100'000, 'a');
  EXPECT_FALSE(WildcardPattern("a*b").matches(text));
  EXPECT_TRUE(WildcardPattern("a*").matches(text));
  EXPECT_TRUE(WildcardPattern("*a").matches(text));
  text.push_back('b');
  EXPECT_TRUE(WildcardPattern("a*b").matches(text));
  EXPECT_TRUE(WildcardPattern("A*B").matches(text));
  EXPECT_FALSE(WildcardPattern("A*B", false).matches(text));
}

}  // namespace
}  // namespace xray::detail
