// Recording through SegmentScope and SubsegmentScope (xray/entity_scope.hpp): annotations,
// metadata, http, exceptions and their causes, subsegment fields, the moved-from and ended states.
#include "xray/entity_scope.hpp"

#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/recorder_fixture.hpp"
#include "xray/stack.hpp"

namespace xray {
namespace {

using testing::find_by_name;
using testing::flatten;
using json = nlohmann::json;

class RecorderTest : public testing::RecorderFixture {};

TEST_F(RecorderTest, AnnotationsKeepTheirTypesAndRejectBadKeysAndValues) {
  {
    auto segment = recorder_.begin_segment("annotations");
    segment.put_annotation("integer", 42);
    segment.put_annotation("negative", -7L);
    segment.put_annotation("unsigned_max", std::numeric_limits<std::uint64_t>::max());
    segment.put_annotation("number", 1.5);
    segment.put_annotation("float", 2.5f);
    segment.put_annotation("literal", "gold");
    segment.put_annotation("string", std::string("silver"));
    segment.put_annotation("view", std::string_view("bronze"));
    segment.put_annotation("flag", false);
    segment.put_annotation("replaced", 1);
    segment.put_annotation("replaced", "two");
    segment.put_annotation("bad-key", 1);
    segment.put_annotation("", 1);
    segment.put_annotation("nan", std::numeric_limits<double>::quiet_NaN());
    segment.put_annotation("inf", std::numeric_limits<double>::infinity());
  }
  json annotations = only_document()["annotations"];
  EXPECT_EQ(annotations["integer"], 42);
  EXPECT_TRUE(annotations["integer"].is_number_integer());
  EXPECT_EQ(annotations["negative"], -7);
  EXPECT_EQ(annotations["unsigned_max"].get<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(annotations["number"], 1.5);
  EXPECT_EQ(annotations["float"], 2.5);
  EXPECT_EQ(annotations["literal"], "gold");
  EXPECT_EQ(annotations["string"], "silver");
  EXPECT_EQ(annotations["view"], "bronze");
  EXPECT_EQ(annotations["flag"], false);
  EXPECT_EQ(annotations["replaced"], "two");
  EXPECT_EQ(annotations.size(), 10u);
}

TEST_F(RecorderTest, MetadataNamespacesAndReservedPrefix) {
  {
    auto segment = recorder_.begin_segment("metadata");
    segment.put_metadata("cart", json{{"skus", {"A-1", "B-2"}}, {"total", 42.5}});
    segment.put_metadata("debug", true, "orders");
    segment.put_metadata("secret", 1, "AWS.internal");
    segment.put_metadata("nan", std::numeric_limits<double>::quiet_NaN());
    segment.put_metadata("cart", json{{"replaced", true}});
  }
  json metadata = only_document()["metadata"];
  EXPECT_EQ(metadata["default"]["cart"], json({{"replaced", true}}));
  EXPECT_TRUE(metadata["default"]["nan"].is_null());
  EXPECT_EQ(metadata["orders"]["debug"], true);
  EXPECT_FALSE(metadata.contains("AWS.internal"));
}

TEST_F(RecorderTest, HttpStatusSetsErrorThrottleAndFault) {
  const std::vector<std::pair<int, std::vector<std::string>>> cases = {
      {200, {}}, {404, {"error"}}, {429, {"error", "throttle"}}, {503, {"fault"}}};
  for (const auto& [status, flags] : cases) {
    auto segment = recorder_.begin_segment("status-" + std::to_string(status));
    segment.set_http_request({"GET", "https://example.com/x", "agent", "10.0.0.1", true, false});
    segment.set_http_status(status);
    segment.set_http_content_length(12);
  }
  ASSERT_TRUE(recorder_.flush(kWait));
  ASSERT_TRUE(daemon_.wait_for_documents(cases.size(), kWait));
  auto documents = daemon_.documents();
  for (const auto& [status, flags] : cases) {
    const json* doc = find_by_name(documents, "status-" + std::to_string(status));
    ASSERT_NE(doc, nullptr);
    EXPECT_EQ((*doc)["http"]["response"]["status"], status);
    EXPECT_EQ((*doc)["http"]["response"]["content_length"], 12);
    EXPECT_EQ((*doc)["http"]["request"]["client_ip"], "10.0.0.1");
    EXPECT_EQ((*doc)["http"]["request"]["x_forwarded_for"], true);
    for (const char* flag : {"error", "throttle", "fault"}) {
      bool expected = std::find(flags.begin(), flags.end(), flag) != flags.end();
      EXPECT_EQ(doc->contains(flag), expected) << status << " " << flag;
      if (expected) {
        EXPECT_EQ((*doc)[flag], true);
      }
    }
  }
}

TEST_F(RecorderTest, NestedExceptionsAreLinkedByCause) {
  {
    auto segment = recorder_.begin_segment("nested");
    try {
      try {
        throw std::system_error(std::make_error_code(std::errc::connection_reset));
      } catch (...) {
        std::throw_with_nested(std::runtime_error("inventory returned 503"));
      }
    } catch (const std::exception& e) {
      segment.add_exception(e, true);
    }
    segment.set_http_status(503);  // a remote exception's flags come from the status
  }
  json doc = only_document();
  EXPECT_EQ(doc["fault"], true);
  const json& exceptions = doc["cause"]["exceptions"];
  ASSERT_EQ(exceptions.size(), 2u);
  EXPECT_EQ(exceptions[0]["message"], "inventory returned 503");
  EXPECT_EQ(exceptions[0]["remote"], true);
  EXPECT_EQ(exceptions[0]["cause"], exceptions[1]["id"]);
  EXPECT_EQ(exceptions[1]["type"], "std::system_error");
}

TEST_F(RecorderTest, RemoteExceptionsSetNoFlagTheStatusDecidesInEitherOrder) {
  // Spec §2.5 decision: DynamoDB's ResourceNotFoundException (400) is error + remote cause, never
  // fault; a local exception still sets fault.
  {
    auto segment = recorder_.begin_segment("remote-errors");
    {
      auto before = recorder_.begin_subsegment("exception-then-status");
      before.add_exception("ResourceNotFoundException", "Requested resource not found", true);
      before.set_http_status(400);
    }
    {
      auto after = recorder_.begin_subsegment("status-then-exception");
      after.set_http_status(429);
      after.add_exception(std::runtime_error("ProvisionedThroughputExceededException"), true);
    }
    {
      auto alone = recorder_.begin_subsegment("remote-alone");
      alone.add_exception("ServiceUnavailable", "try again", true);
    }
    {
      auto local = recorder_.begin_subsegment("local");
      local.add_exception("ParseError", "bad input");
    }
  }
  auto entities = flatten({only_document()});
  const json* before = find_by_name(entities, "exception-then-status");
  const json* after = find_by_name(entities, "status-then-exception");
  const json* alone = find_by_name(entities, "remote-alone");
  const json* local = find_by_name(entities, "local");
  ASSERT_TRUE(before && after && alone && local);
  EXPECT_EQ((*before)["error"], true);
  EXPECT_FALSE(before->contains("fault"));
  EXPECT_EQ((*before)["cause"]["exceptions"][0]["type"], "ResourceNotFoundException");
  EXPECT_EQ((*before)["cause"]["exceptions"][0]["message"], "Requested resource not found");
  EXPECT_EQ((*before)["cause"]["exceptions"][0]["remote"], true);
  EXPECT_EQ((*after)["throttle"], true);
  EXPECT_EQ((*after)["error"], true);
  EXPECT_FALSE(after->contains("fault"));
  EXPECT_FALSE(alone->contains("fault"));
  EXPECT_FALSE(alone->contains("error"));
  EXPECT_EQ((*local)["fault"], true);
  EXPECT_FALSE((*local)["cause"]["exceptions"][0].contains("remote"));
}

TEST_F(RecorderTest, ExceptionsCarryCapturedStackFramesBoundedTo50) {
  std::vector<StackFrame> frames = capture_stack();
  ASSERT_GT(frames.size(), 3u);
  for (const auto& frame : frames) {
    EXPECT_FALSE(frame.path.empty());
    EXPECT_FALSE(frame.label.empty());  // a symbol, or 0x<offset> in an executable
  }
  // The C library exports its symbols: the outermost frames are named.
  bool named = false;
  for (const auto& frame : frames) named = named || frame.label.find("libc_start") != std::string::npos;
  EXPECT_TRUE(named);
  EXPECT_EQ(capture_stack(3).size(), 3u);

  std::vector<StackFrame> deep(60, StackFrame{"orders.cpp", 12, "handle"});
  {
    auto segment = recorder_.begin_segment("stacked");
    segment.add_exception(std::runtime_error("boom"), deep);
  }
  json doc = only_document();
  const json& exception = doc["cause"]["exceptions"][0];
  ASSERT_EQ(exception["stack"].size(), 50u);
  EXPECT_EQ(exception["truncated"], 10);
  EXPECT_EQ(exception["stack"][0], (json{{"path", "orders.cpp"}, {"line", 12}, {"label", "handle"}}));
  EXPECT_EQ(doc["fault"], true);
}

TEST_F(RecorderTest, SubsegmentFieldsSqlNamespaceAwsAndPrecursors) {
  std::string first_id;
  {
    auto segment = recorder_.begin_segment("fields");
    {
      auto first = recorder_.begin_subsegment("first");
      first_id = first.id();
    }
    auto db = recorder_.begin_subsegment("postgres");
    db.set_namespace("remote");
    db.set_namespace("local");  // refused: only aws and remote exist
    db.set_sql({"Server=db;User Id=app;Password=hunter2;Database=orders", "postgresql://app:hunter2@db:5432/orders",
                "SELECT 1", "PostgreSQL", "15.4", "libpq 15", "app", "statement"});
    db.add_precursor_id(first_id);
    db.set_aws("operation", "Query");
    db.set_http_request({"POST", "https://api.example.com/q", "", "", false, true});
  }
  auto entities = flatten({only_document()});
  const json* db = find_by_name(entities, "postgres");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ((*db)["namespace"], "remote");
  EXPECT_EQ((*db)["sql"]["url"], "postgresql://app@db:5432/orders");
  EXPECT_EQ((*db)["sql"]["connection_string"].get<std::string>().find("hunter2"), std::string::npos);
  EXPECT_FALSE((*db)["sql"].contains("sanitized_query"));  // collection is off by default
  EXPECT_EQ((*db)["sql"]["database_type"], "PostgreSQL");
  EXPECT_EQ((*db)["precursor_ids"], json({first_id}));
  EXPECT_EQ((*db)["aws"]["operation"], "Query");
  EXPECT_EQ((*db)["http"]["request"]["traced"], true);
}


TEST_F(RecorderTest, ScopesAreMoveOnlyWithAnInertMovedFromState) {
  {
    auto first = recorder_.begin_segment("moved");
    SegmentScope second = std::move(first);
    EXPECT_FALSE(first.active());  // NOLINT(bugprone-use-after-move): the contract under test
    first.put_annotation("ignored", 1);
    first.end();
    EXPECT_TRUE(second.active());
    second.put_annotation("kept", 1);
  }
  json doc = only_document();
  EXPECT_EQ(doc["annotations"], json({{"kept", 1}}));
}

TEST_F(RecorderTest, ChangesAfterEndAreRefused) {
  auto segment = recorder_.begin_segment("ended");
  Context context = segment.context();
  segment.end();
  segment.put_annotation("late", 1);  // inert after end()
  json doc = only_document();
  EXPECT_FALSE(doc.contains("annotations"));
}

}  // namespace
}  // namespace xray
