#include "model/ids.hpp"
#include "model/json_writer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>

namespace xray::detail {
namespace {

// The string `raw` as the writer emits it, with quotes.
std::string written(std::string_view raw) {
  std::string out;
  JsonWriter w(out);
  w.string(raw);
  return out;
}

// What a JSON parser reads back from the writer's rendering of `raw`.
std::string round_trip(std::string_view raw) {
  return nlohmann::json::parse(written(raw)).get<std::string>();
}

const std::string kFffd = "\xEF\xBF\xBD";

TEST(JsonWriterTest, WritesNestedContainersWithCommas) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("a");
  w.integer(1);
  w.key("b");
  w.begin_array();
  w.integer(-2);
  w.begin_object();
  w.end_object();
  w.begin_array();
  w.end_array();
  w.string("x");
  w.end_array();
  w.key("c");
  w.begin_object();
  w.key("d");
  w.boolean(true);
  w.key("e");
  w.boolean(false);
  w.key("f");
  w.null();
  w.end_object();
  w.key("g");
  w.unsigned_integer(std::numeric_limits<std::uint64_t>::max());
  w.end_object();
  EXPECT_EQ(out, R"({"a":1,"b":[-2,{},[],"x"],"c":{"d":true,"e":false,"f":null},)"
                 R"("g":18446744073709551615})");
  EXPECT_TRUE(nlohmann::json::accept(out));
}

TEST(JsonWriterTest, AppendsToExistingBuffer) {
  std::string out = "prefix\n";
  JsonWriter w(out);
  w.begin_object();
  w.key("k");
  w.string("v");
  w.end_object();
  EXPECT_EQ(out, "prefix\n{\"k\":\"v\"}");
  EXPECT_EQ(&w.buffer(), &out);
}

TEST(JsonWriterTest, NestingBeyondSixtyFourLevelsStaysValid) {
  std::string out;
  JsonWriter w(out);
  constexpr int kDepth = 100;
  for (int i = 0; i < kDepth; ++i) {
    w.begin_array();
    w.integer(i);
    w.begin_object();
    w.key("a");
    w.integer(i);
    w.key("b");
    w.begin_array();
  }
  for (int i = 0; i < kDepth; ++i) {
    w.end_array();
    w.key("c");
    w.integer(i);
    w.end_object();
    w.integer(i);
    w.end_array();
  }
  nlohmann::json parsed = nlohmann::json::parse(out);
  const nlohmann::json* node = &parsed;
  for (int i = 0; i < kDepth; ++i) {
    ASSERT_TRUE(node->is_array());
    ASSERT_EQ(node->size(), 3u);
    EXPECT_EQ((*node)[0], i);
    EXPECT_EQ((*node)[2], kDepth - 1 - i);
    const nlohmann::json& object = (*node)[1];
    EXPECT_EQ(object["a"], i);
    EXPECT_EQ(object["c"], kDepth - 1 - i);
    if (i + 1 < kDepth) {
      ASSERT_EQ(object["b"].size(), 1u);
      node = &object["b"][0];
    }
  }
}

TEST(JsonWriterTest, EscapesQuoteAndBackslash) {
  EXPECT_EQ(written("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(round_trip("a\"b\\c"), "a\"b\\c");
  EXPECT_EQ(written("/"), R"("/")");
}

TEST(JsonWriterTest, EscapesEveryControlCharacter) {
  for (int c = 0; c < 0x20; ++c) {
    const std::string raw(1, static_cast<char>(c));
    std::string expected;
    switch (c) {
      case '\b':
        expected = "\\b";
        break;
      case '\f':
        expected = "\\f";
        break;
      case '\n':
        expected = "\\n";
        break;
      case '\r':
        expected = "\\r";
        break;
      case '\t':
        expected = "\\t";
        break;
      default: {
        char buffer[8];
        std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
        expected = buffer;
      }
    }
    EXPECT_EQ(written(raw), "\"" + expected + "\"") << "byte " << c;
    EXPECT_EQ(round_trip(raw), raw) << "byte " << c;
  }
}

TEST(JsonWriterTest, CopiesPrintableAsciiAndDelete) {
  std::string raw;
  for (int c = 0x20; c < 0x80; ++c) raw += static_cast<char>(c);
  EXPECT_EQ(round_trip(raw), raw);
}

TEST(JsonWriterTest, CopiesValidMultiByteUtf8) {
  const std::string two = "caf\xC3\xA9";         // é
  const std::string three = "\xE2\x82\xAC 100";  // €
  const std::string four = "\xF0\x9F\x98\x80!";  // U+1F600
  const std::string edges =
      "\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80"
      "\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF";
  for (const std::string& raw : {two, three, four, edges}) {
    EXPECT_EQ(written(raw), "\"" + raw + "\"");
    EXPECT_EQ(round_trip(raw), raw);
  }
}

TEST(JsonWriterTest, ReplacesInvalidUtf8) {
  struct Case {
    std::string raw;
    std::string expected;
  };
  const Case cases[] = {
      {"a\x80z", "a" + kFffd + "z"},                        // lone continuation
      {"\xBF\xBF", kFffd + kFffd},                          // two lone continuations
      {"\xC0\x80", kFffd + kFffd},                          // overlong NUL
      {"\xC1\xBF", kFffd + kFffd},                          // overlong 2-byte
      {"\xE0\x80\x80", kFffd + kFffd + kFffd},              // overlong 3-byte
      {"\xF0\x80\x80\x80", kFffd + kFffd + kFffd + kFffd},  // overlong 4-byte
      {"\xED\xA0\x80", kFffd + kFffd + kFffd},              // high surrogate D800
      {"\xED\xBF\xBF", kFffd + kFffd + kFffd},              // low surrogate DFFF
      {"\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},  // U+110000
      {"\xF5\x80\x80\x80", kFffd + kFffd + kFffd + kFffd},  // F5 lead
      {"\xFF", kFffd},                                      // FF
      {"\xFE\xFF", kFffd + kFffd},                          // FE FF
      {"ab\xC3", "ab" + kFffd},                             // truncated 2-byte at end
      {"ab\xE2\x82", "ab" + kFffd},                         // truncated 3-byte at end
      {"ab\xF0\x9F\x98", "ab" + kFffd},                     // truncated 4-byte at end
      {"\xE2\x82x", kFffd + "x"},                           // truncated 3-byte mid-string
      {"\xF0\x9F\x98\"", kFffd + "\""},                     // truncated before a quote
      {"\xC3\n", kFffd + "\n"},                             // truncated before a control
      {"\xC3\xC3\xA9", kFffd + "\xC3\xA9"},                 // bad lead, then valid
  };
  for (const Case& c : cases) {
    const std::string out = written(c.raw);
    nlohmann::json parsed;
    ASSERT_NO_THROW(parsed = nlohmann::json::parse(out)) << out;
    EXPECT_EQ(parsed.get<std::string>(), c.expected) << out;
  }
}

TEST(JsonWriterTest, RandomBytesAlwaysProduceValidJson) {
  std::mt19937 engine(20240229);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 64);
  for (int i = 0; i < 5000; ++i) {
    std::string raw(static_cast<std::size_t>(length(engine)), '\0');
    for (char& c : raw) c = static_cast<char>(byte(engine));
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.key(raw);
    w.string(raw);
    w.end_object();
    nlohmann::json parsed;
    ASSERT_NO_THROW(parsed = nlohmann::json::parse(out)) << "iteration " << i;
    ASSERT_EQ(parsed.size(), 1u);
    // nlohmann also replaces each maximal ill-formed subsequence with one U+FFFD: an independent
    // reference for the same policy.
    const std::string reference =
        nlohmann::json::parse(
            nlohmann::json(raw).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
            .get<std::string>();
    EXPECT_EQ(parsed.begin().key(), reference) << "iteration " << i;
    EXPECT_EQ(parsed.begin().value().get<std::string>(), reference) << "iteration " << i;
  }
}

TEST(JsonWriterTest, KeysAreEscaped) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("a\"b\n\xFF");
  w.integer(1);
  w.end_object();
  const nlohmann::json parsed = nlohmann::json::parse(out);
  EXPECT_EQ(parsed.at("a\"b\n" + kFffd), 1);
}

std::string number(double value) {
  std::string out;
  JsonWriter w(out);
  w.number(value);
  return out;
}

TEST(JsonWriterTest, WritesShortestRoundTripNumbers) {
  EXPECT_EQ(number(1.5), "1.5");
  EXPECT_EQ(number(0.1), "0.1");
  EXPECT_EQ(number(0.0), "0");
  EXPECT_EQ(number(-2.25), "-2.25");
  EXPECT_EQ(number(1e300), "1e+300");
  EXPECT_EQ(number(1e20), "1e+20");
  for (double value : {1.5, 0.1, 1e300, 1e20, 1e-7, -0.0, 123456789.125,
                       std::numeric_limits<double>::max(), std::numeric_limits<double>::min(),
                       std::numeric_limits<double>::denorm_min(), -1.0 / 3.0}) {
    const std::string text = number(value);
    nlohmann::json parsed;
    ASSERT_NO_THROW(parsed = nlohmann::json::parse(text)) << text;
    EXPECT_EQ(parsed.get<double>(), value) << text;
  }
}

TEST(JsonWriterTest, WritesNonFiniteNumbersAsNull) {
  EXPECT_EQ(number(std::nan("")), "null");
  EXPECT_EQ(number(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(number(-std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonWriterTest, WritesIntegers) {
  std::string out;
  JsonWriter w(out);
  w.begin_array();
  w.integer(0);
  w.integer(std::numeric_limits<std::int64_t>::min());
  w.integer(std::numeric_limits<std::int64_t>::max());
  w.unsigned_integer(0);
  w.end_array();
  EXPECT_EQ(out, "[0,-9223372036854775808,9223372036854775807,0]");
}

std::string epoch(std::int64_t us) {
  std::string out;
  JsonWriter w(out);
  w.epoch_seconds(us);
  return out;
}

TEST(JsonWriterTest, WritesEpochSecondsWithSixDigits) {
  EXPECT_EQ(epoch(1480615200010123), "1480615200.010123");
  EXPECT_EQ(epoch(1478293361271000), "1478293361.271000");
  EXPECT_EQ(epoch(0), "0.000000");
  EXPECT_EQ(epoch(5), "0.000005");
  EXPECT_EQ(epoch(1000000), "1.000000");
  EXPECT_EQ(epoch(-5), "-0.000005");
  EXPECT_EQ(epoch(-1500000), "-1.500000");
  EXPECT_EQ(epoch(std::numeric_limits<std::int64_t>::min()), "-9223372036854.775808");
  EXPECT_EQ(epoch(std::numeric_limits<std::int64_t>::max()), "9223372036854.775807");
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(epoch(1480615200010123)).get<double>(), 1480615200.010123);
}

TEST(JsonWriterTest, WritesIdsAsSixteenLowercaseHexDigits) {
  std::string out;
  JsonWriter w(out);
  w.begin_array();
  w.id(0x53995c3f42cd8ad8ULL);
  w.id(1);
  w.id(0);
  w.end_array();
  EXPECT_EQ(out, R"(["53995c3f42cd8ad8","0000000000000001","0000000000000000"])");
}

TEST(JsonWriterTest, WritesJsonValuesCompactlyWithReplacement) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("a");
  w.json(nlohmann::json{{"skus", {"A-1", "B-2"}}, {"total", 42.5}});
  w.key("b");
  w.json(nlohmann::json(std::string("bad\xFF")));
  w.key("c");
  w.json(nlohmann::json(std::numeric_limits<double>::quiet_NaN()));
  w.key("d");
  w.json(nlohmann::json(std::numeric_limits<double>::infinity()));
  w.key("e");
  w.json(nlohmann::json(nlohmann::json::value_t::discarded));
  w.key("f");
  w.json(nlohmann::json("ctl\x01"));
  w.end_object();
  const nlohmann::json parsed = nlohmann::json::parse(out);
  EXPECT_EQ(parsed["a"], (nlohmann::json{{"skus", {"A-1", "B-2"}}, {"total", 42.5}}));
  EXPECT_EQ(parsed["b"], "bad" + kFffd);
  EXPECT_TRUE(parsed["c"].is_null());
  EXPECT_TRUE(parsed["d"].is_null());
  EXPECT_TRUE(parsed["e"].is_null());
  EXPECT_EQ(parsed["f"], "ctl\x01");
  EXPECT_EQ(out.find(' '), std::string::npos);
}

TEST(JsonWriterTest, FormatsAndParsesIds) {
  EXPECT_EQ(format_id(0x53995c3f42cd8ad8ULL), "53995c3f42cd8ad8");
  EXPECT_EQ(format_id(0), "0000000000000000");
  EXPECT_EQ(format_id(0xFFFFFFFFFFFFFFFFULL), "ffffffffffffffff");
  EXPECT_EQ(parse_id("53995c3f42cd8ad8"), 0x53995c3f42cd8ad8ULL);
  EXPECT_EQ(parse_id("53995C3F42CD8AD8"), 0x53995c3f42cd8ad8ULL);
  EXPECT_EQ(parse_id("0000000000000001"), 1u);
  EXPECT_EQ(parse_id("ffffffffffffffff"), 0xFFFFFFFFFFFFFFFFULL);
  EXPECT_EQ(parse_id(""), 0u);
  EXPECT_EQ(parse_id("53995c3f42cd8ad"), 0u);    // 15 digits
  EXPECT_EQ(parse_id("53995c3f42cd8ad80"), 0u);  // 17 digits
  EXPECT_EQ(parse_id("53995c3f42cd8adg"), 0u);
  EXPECT_EQ(parse_id("+3995c3f42cd8ad8"), 0u);
  EXPECT_EQ(parse_id(" 3995c3f42cd8ad8"), 0u);
  for (std::uint64_t id : {0x1ULL, 0x0123456789abcdefULL, 0xfedcba9876543210ULL}) {
    EXPECT_EQ(parse_id(format_id(id)), id);
  }
}

}  // namespace
}  // namespace xray::detail
