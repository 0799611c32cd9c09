#include "datagram.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace xray::local {
namespace {

const std::string kHeader = "{\"format\":\"json\",\"version\":1}\n";
const std::string kDocument =
    R"({"name":"orders","id":"70de5b6f19ff9a0a","trace_id":"1-5759e988-bd862e3fe1be46a994272793","start_time":1.5,"end_time":2.5})";

TEST(DatagramTest, AcceptsADocumentAfterTheHeader) {
  const Datagram parsed = parse_datagram(kHeader + kDocument);
  ASSERT_EQ(parsed.problem, DatagramProblem::kNone);
  EXPECT_EQ(parsed.document["name"], "orders");
  EXPECT_TRUE(parsed.unknown_fields.empty());
}

TEST(DatagramTest, HeaderFormatIsCaseInsensitiveAndSpacingFree) {
  EXPECT_EQ(parse_datagram("{ \"format\": \"JSON\", \"version\": 1 }\n" + kDocument).problem,
            DatagramProblem::kNone);
}

TEST(DatagramTest, NamesEachProblem) {
  EXPECT_EQ(parse_datagram(kDocument).problem, DatagramProblem::kMissingBody);
  EXPECT_EQ(parse_datagram(kHeader).problem, DatagramProblem::kMissingBody);
  EXPECT_EQ(parse_datagram("{\"format\":\"json\",\"vers").problem, DatagramProblem::kMissingBody);
  EXPECT_EQ(parse_datagram("{\"format\":\"xml\",\"version\":1}\n" + kDocument).problem,
            DatagramProblem::kInvalidHeader);
  EXPECT_EQ(parse_datagram("{\"format\":\"json\",\"version\":2}\n" + kDocument).problem,
            DatagramProblem::kInvalidHeader);
  EXPECT_EQ(parse_datagram("not json\n" + kDocument).problem, DatagramProblem::kInvalidHeader);
  // A datagram cut short: the body ends mid-document.
  EXPECT_EQ(parse_datagram(kHeader + kDocument.substr(0, 40)).problem, DatagramProblem::kInvalidJson);
  EXPECT_EQ(parse_datagram(kHeader + "[1,2]").problem, DatagramProblem::kNotAnObject);
  EXPECT_EQ(parse_datagram(kHeader + R"({"name":"x","id":"1"})").problem,
            DatagramProblem::kNotADocument);
  EXPECT_EQ(parse_datagram(kHeader + R"({"name":"","id":"1","trace_id":"t"})").problem,
            DatagramProblem::kNotADocument);
  EXPECT_EQ(parse_datagram(kHeader + std::string(70, '[') + std::string(70, ']')).problem,
            DatagramProblem::kTooDeep);
  // Invalid UTF-8 in a string.
  EXPECT_EQ(parse_datagram(kHeader + "{\"name\":\"\xff\xfe\",\"id\":\"1\",\"trace_id\":\"t\"}").problem,
            DatagramProblem::kInvalidJson);
}

TEST(DatagramTest, BracketsInsideStringsDoNotCountAsNesting) {
  std::string doc = kDocument;
  doc.insert(doc.size() - 1, ",\"annotations\":{\"deep\":\"" + std::string(200, '[') + "\"}");
  EXPECT_EQ(parse_datagram(kHeader + doc).problem, DatagramProblem::kNone);
}

TEST(DatagramTest, ReportsFieldsTheDocumentFormatDoesNotDefine) {
  std::string doc = kDocument;
  doc.insert(doc.size() - 1, ",\"colour\":\"blue\",\"http\":{}");
  const Datagram parsed = parse_datagram(kHeader + doc);
  ASSERT_EQ(parsed.problem, DatagramProblem::kNone);
  EXPECT_EQ(parsed.unknown_fields, std::vector<std::string>{"colour"});
}

TEST(DatagramTest, ProblemNamesAreDistinct) {
  std::set<std::string_view> names;
  for (int i = 0; i < kDatagramProblemCount; ++i) names.insert(to_string(static_cast<DatagramProblem>(i)));
  EXPECT_EQ(names.size(), static_cast<std::size_t>(kDatagramProblemCount));
}

}  // namespace
}  // namespace xray::local
