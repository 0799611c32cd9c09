#include "xray/trace_context.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

namespace xray {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

// The W3C Trace Context test suite's ids (w3c/trace-context test/test.py), and spec §4.5's R5/P.
const std::string kSuiteTraceId = "12345678901234567890123456789012";
const std::string kSuiteParentId = "1234567890123456";
const std::string kR5 = "1-5759e988-bd862e3fe1be46a994272793";
const std::string kR5W3c = "5759e988bd862e3fe1be46a994272793";
const std::string kP = "53995c3f42cd8ad8";
// A clock at R5's start second (0x5759e988 = 2016-06-09), so that R5 is a fresh trace.
const system_clock::time_point kR5Start = system_clock::time_point(seconds(0x5759e988));

std::optional<TraceParent> parse(const std::string& value) { return TraceParent::parse(value); }

// ---- traceparent parsing: the suite's valid forms ----

TEST(TraceParentParse, Version00) {
  auto parsed = parse("00-" + kSuiteTraceId + "-" + kSuiteParentId + "-01");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->trace_id, kSuiteTraceId);
  EXPECT_EQ(parsed->parent_id, kSuiteParentId);
  EXPECT_EQ(parsed->flags, 0x01);
  EXPECT_TRUE(parsed->sampled());
}

TEST(TraceParentParse, UnsampledAndUnknownFlagBits) {
  auto unsampled = parse("00-" + kSuiteTraceId + "-" + kSuiteParentId + "-00");
  ASSERT_TRUE(unsampled);
  EXPECT_FALSE(unsampled->sampled());
  // Flags other than bit 0 are not ours to judge: kept, and only bit 0 read.
  auto other_bits = parse("00-" + kSuiteTraceId + "-" + kSuiteParentId + "-09");
  ASSERT_TRUE(other_bits);
  EXPECT_EQ(other_bits->flags, 0x09);
  EXPECT_TRUE(other_bits->sampled());
  auto high_bits = parse("00-" + kSuiteTraceId + "-" + kSuiteParentId + "-fe");
  ASSERT_TRUE(high_bits);
  EXPECT_FALSE(high_bits->sampled());
}

TEST(TraceParentParse, SpacesAndTabsAroundTheValue) {
  const std::string value = "00-" + kSuiteTraceId + "-" + kSuiteParentId + "-01";
  for (const std::string& form :
       {" " + value, "\t" + value, value + " ", value + "\t", "\t " + value + " \t"}) {
    auto parsed = parse(form);
    ASSERT_TRUE(parsed) << '"' << form << '"';
    EXPECT_EQ(parsed->trace_id, kSuiteTraceId);
  }
}

TEST(TraceParentParse, FutureVersionMayAppendFieldsAfterADash) {
  auto plain = parse("cc-" + kSuiteTraceId + "-" + kSuiteParentId + "-01");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->trace_id, kSuiteTraceId);
  auto longer =
      parse("cc-" + kSuiteTraceId + "-" + kSuiteParentId + "-01-what-the-future-will-be-like");
  ASSERT_TRUE(longer);
  EXPECT_EQ(longer->trace_id, kSuiteTraceId);
  EXPECT_EQ(longer->parent_id, kSuiteParentId);
  EXPECT_FALSE(
      parse("cc-" + kSuiteTraceId + "-" + kSuiteParentId + "-01.what-the-future-will-be-like"));
}

// ---- traceparent parsing: the suite's invalid forms (each starts a new trace) ----

TEST(TraceParentParse, RejectsEveryInvalidFormOfTheSuite) {
  const std::string t = kSuiteTraceId;
  const std::string p = kSuiteParentId;
  const std::string invalid[] = {
      "00-" + t + "-" + p + "-01.",                              // trailing character, v00
      "00-" + t + "-" + p + "-01-what-the-future-will-be-like",  // v00 has no more fields
      "ff-" + t + "-" + p + "-01",                               // version 255 is forbidden
      ".0-" + t + "-" + p + "-01",
      "0.-" + t + "-" + p + "-01",  // version characters
      "000-" + t + "-" + p + "-01",
      "0000-" + t + "-" + p + "-01",                       // version too long
      "0-" + t + "-" + p + "-01",                          // version too short
      "00-00000000000000000000000000000000-" + p + "-01",  // trace id all zero
      "00-.2345678901234567890123456789012-" + p + "-01",  // trace id characters
      "00-1234567890123456789012345678901.-" + p + "-01",
      "00-123456789012345678901234567890123-" + p + "-01",  // trace id too long
      "00-1234567890123456789012345678901-" + p + "-01",    // trace id too short
      "00-" + t + "-0000000000000000-01",                   // parent id all zero
      "00-" + t + "-.234567890123456-01",
      "00-" + t + "-123456789012345.-01",
      "00-" + t + "-12345678901234567-01",  // parent id too long
      "00-" + t + "-123456789012345-01",    // parent id too short
      "00-" + t + "-" + p + "-.0",
      "00-" + t + "-" + p + "-0.",                                // flags characters
      "00-" + t + "-" + p + "-001",                               // flags too long
      "00-" + t + "-" + p + "-1",                                 // flags too short
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",  // uppercase hex
      "00_" + t + "_" + p + "_01",                                // wrong separators
      "",
      "   ",
      "garbage",
  };
  for (const std::string& value : invalid) EXPECT_FALSE(parse(value)) << '"' << value << '"';
}

TEST(TraceParentFormat, RoundTripsVersion00) {
  const std::string value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto parsed = parse(value);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->to_string(), value);
  // A future version is written back as the version this SDK speaks.
  auto future = parse("cc-" + kSuiteTraceId + "-" + kSuiteParentId + "-03-more");
  ASSERT_TRUE(future);
  EXPECT_EQ(future->to_string(), "00-" + kSuiteTraceId + "-" + kSuiteParentId + "-03");
}

// ---- id conversions ----

TEST(TraceIdConversion, XRayToW3c) {
  EXPECT_EQ(to_w3c_trace_id(kR5), kR5W3c);
  EXPECT_EQ(to_w3c_trace_id("1-57FF426A-80C11C39B0C928905EB0828D"), "");  // invalid Root
  EXPECT_EQ(to_w3c_trace_id("0-57ff426a-80c11c39b0c928905eb0828d"), "");
  EXPECT_EQ(to_w3c_trace_id("1-00000000-000000000000000000000000"), "");  // no-op id
  EXPECT_EQ(to_w3c_trace_id(""), "");
}

TEST(TraceIdConversion, W3cToXRayWithinTheAcceptedWindow) {
  EXPECT_EQ(to_xray_trace_id(kR5W3c, kR5Start), kR5);
  EXPECT_EQ(to_xray_trace_id(kR5W3c, kR5Start + std::chrono::hours(24 * 30)), kR5);
  EXPECT_EQ(to_xray_trace_id(kR5W3c, kR5Start - std::chrono::minutes(5)), kR5);
}

TEST(TraceIdConversion, W3cIdsXRayWouldRefuseDoNotConvert) {
  // Older than 30 days, more than 5 minutes ahead.
  EXPECT_EQ(to_xray_trace_id(kR5W3c, kR5Start + std::chrono::hours(24 * 30) + seconds(1)), "");
  EXPECT_EQ(to_xray_trace_id(kR5W3c, kR5Start - std::chrono::minutes(5) - seconds(1)), "");
  // The suite's id reads as 1979; OpenTelemetry's random ids land anywhere in 136 years.
  EXPECT_EQ(to_xray_trace_id(kSuiteTraceId), "");
  EXPECT_EQ(to_xray_trace_id("ffffffff" + kSuiteTraceId.substr(8)), "");
  // Not a W3C id at all.
  EXPECT_EQ(to_xray_trace_id("5759E988BD862E3FE1BE46A994272793", kR5Start), "");
  EXPECT_EQ(to_xray_trace_id("00000000000000000000000000000000", system_clock::time_point{}), "");
  EXPECT_EQ(to_xray_trace_id(kR5W3c.substr(1), kR5Start), "");
}

TEST(TraceIdConversion, TheCurrentTimeConvertsWithTheDefaultClock) {
  // The one conversion that reads the real clock: an id X-Ray itself would make now.
  const auto now = std::chrono::duration_cast<seconds>(system_clock::now().time_since_epoch());
  char start[9];
  std::snprintf(start, sizeof start, "%08llx", static_cast<unsigned long long>(now.count()));
  const std::string w3c = std::string(start) + "bd862e3fe1be46a994272793";
  EXPECT_EQ(to_xray_trace_id(w3c), "1-" + std::string(start) + "-bd862e3fe1be46a994272793");
}

// ---- headers ----

TEST(TraceParentToHeader, ConvertibleIdContinuesTheTrace) {
  TraceParent parent{kR5W3c, kP, 0x01};
  const TraceHeader header = to_trace_header(parent, kR5Start);
  EXPECT_EQ(header.root(), kR5);
  EXPECT_EQ(header.parent(), kP);
  EXPECT_EQ(header.sampled(), TraceHeader::Sampled::kYes);
  EXPECT_EQ(header.to_string(), "Root=" + kR5 + ";Parent=" + kP + ";Sampled=1");
}

TEST(TraceParentToHeader, UnconvertibleIdStartsANewTraceButKeepsTheDecision) {
  TraceParent parent{kSuiteTraceId, kSuiteParentId, 0x00};
  const TraceHeader header = to_trace_header(parent, kR5Start);
  EXPECT_EQ(header.root(), "");
  EXPECT_EQ(header.parent(), "");
  EXPECT_EQ(header.sampled(), TraceHeader::Sampled::kNo);
}

TEST(HeaderToTraceParent, OutboundHeaderBecomesTraceparent) {
  const TraceHeader header = TraceHeader::parse("Root=" + kR5 + ";Parent=" + kP + ";Sampled=1");
  auto parent = to_trace_parent(header);
  ASSERT_TRUE(parent);
  EXPECT_EQ(parent->to_string(), "00-" + kR5W3c + "-" + kP + "-01");
  const TraceHeader unsampled = TraceHeader::parse("Root=" + kR5 + ";Parent=" + kP + ";Sampled=0");
  EXPECT_EQ(to_trace_parent(unsampled)->to_string(), "00-" + kR5W3c + "-" + kP + "-00");
  // Uppercase Parent (accepted by X-Ray) is written as W3C requires.
  const TraceHeader upper = TraceHeader::parse("Root=" + kR5 + ";Parent=53995C3F42CD8AD8");
  EXPECT_EQ(to_trace_parent(upper)->parent_id, kP);
}

TEST(HeaderToTraceParent, NothingWithoutAValidRootAndParent) {
  EXPECT_FALSE(to_trace_parent(TraceHeader::parse("Root=" + kR5 + ";Sampled=0")));  // no-op ids
  EXPECT_FALSE(
      to_trace_parent(TraceHeader::parse("Root=1-00000000-000000000000000000000000;"
                                         "Parent=" +
                                         kP)));
  EXPECT_FALSE(to_trace_parent(TraceHeader::parse("Root=fake;Parent=" + kP)));
  EXPECT_FALSE(to_trace_parent(TraceHeader::parse("Root=" + kR5 + ";Parent=0000000000000000")));
  EXPECT_FALSE(to_trace_parent(TraceHeader()));
}

TEST(TraceContextRoundTrip, XRayHeaderThroughW3cAndBack) {
  const TraceHeader original = TraceHeader::parse("Root=" + kR5 + ";Parent=" + kP + ";Sampled=1");
  auto parent = to_trace_parent(original);
  ASSERT_TRUE(parent);
  auto reparsed = TraceParent::parse(parent->to_string());
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(to_trace_header(*reparsed, kR5Start), original);
}

}  // namespace
}  // namespace xray
