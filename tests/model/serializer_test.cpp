#include "model/serializer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <limits>
#include <memory>
#include <string>

#include "xray/version.hpp"

namespace xray::detail {
namespace {

constexpr const char* kTraceId = "1-5759e988-bd862e3fe1be46a994272793";

class SerializerTest : public ::testing::Test {
 protected:
  std::shared_ptr<Entity> make_segment(EntityId id = 0x53995c3f42cd8ad8ULL, EntityId parent = 0) {
    auto e = std::make_shared<Entity>(tree_, id, parent, true);
    e->name = "checkout";
    e->start_us = 1478293361271000;
    e->end_us = 1478293361449123;
    e->ended = true;
    return e;
  }

  std::shared_ptr<Entity> make_subsegment(EntityId id, EntityId parent, std::string name) {
    auto e = std::make_shared<Entity>(tree_, id, parent, false);
    e->name = std::move(name);
    e->start_us = 1478293361300000;
    e->end_us = 1478293361351000;
    e->ended = true;
    return e;
  }

  nlohmann::json serialize(const Entity& root, const DocumentContext& context) {
    std::string out;
    write_document(out, root, context);
    return nlohmann::json::parse(out);
  }

  nlohmann::json serialize(const Entity& root) {
    return serialize(root, DocumentContext{kTraceId});
  }

  std::shared_ptr<EntityTree> tree_ =
      std::make_shared<EntityTree>(nullptr, kTraceId, true, TimeAnchor{});
};

TEST_F(SerializerTest, MinimalSegmentHasOnlyRequiredFields) {
  const nlohmann::json doc = serialize(*make_segment());
  const nlohmann::json expected = {
      {"name", "checkout"},
      {"id", "53995c3f42cd8ad8"},
      {"trace_id", kTraceId},
      {"start_time", 1478293361.271},
      {"end_time", 1478293361.449123},
      {"service", {{"runtime", "C++"}, {"runtime_version", "C++17"}}},
      {"aws", {{"xray", {{"sdk", "X-Ray for C++"}, {"sdk_version", std::string(kSdkVersion)}}}}},
  };
  EXPECT_EQ(doc, expected);
}

TEST_F(SerializerTest, WritesFieldsInFixedOrderWithExactTimes) {
  auto segment = make_segment(0x70de5b6f19ff9a0aULL, 0x53995c3f42cd8ad8ULL);
  std::string out;
  write_document(out, *segment, DocumentContext{kTraceId});
  EXPECT_EQ(out.rfind(R"({"name":"checkout","id":"70de5b6f19ff9a0a","trace_id":")" +
                          std::string(kTraceId) +
                          R"(","parent_id":"53995c3f42cd8ad8","start_time":1478293361.271000,)"
                          R"("end_time":1478293361.449123,)",
                      0),
            0u)
      << out;
}

TEST_F(SerializerTest, SegmentWithEveryField) {
  auto s = make_segment(0x70de5b6f19ff9a0aULL, 0x53995c3f42cd8ad8ULL);
  s->user = "user-42";
  s->resource_arn = "arn:aws:ecs:us-west-2:111122223333:service/checkout";
  s->origin = "AWS::ECS::Container";
  s->service_version = "2.3.1";
  s->sampling_rule_name = "base-scorekeep";
  s->http = HttpData{HttpRequestInfo{"POST", "https://shop.example.com/api/checkout", "curl/7.88.1",
                                     "203.0.113.7", true, false},
                     200, 861};
  s->aws = {{"account_id", "111122223333"}};
  s->error = true;
  s->throttle = true;
  s->fault = true;
  ExceptionRecord ex;
  ex.id = 0x2c7a3b1e9f0d4a65ULL;
  ex.type = "checkout::UpstreamError";
  ex.message = "inventory returned 503";
  ex.remote = true;
  ex.truncated = 3;
  ex.skipped = 2;
  ex.cause = 0x8e1f0c2d3b4a5968ULL;
  ex.stack = {{"src/cart.cpp", 118, "checkout::Cart::reserve"},
              {"src/handler.cpp", 57, "checkout::handle_post"}};
  ExceptionRecord inner;
  inner.id = 0x8e1f0c2d3b4a5968ULL;
  inner.type = "std::system_error";
  inner.message = "Connection reset by peer";
  s->exceptions = {ex, inner};
  s->annotations = {{"customer_tier", std::string("gold")},
                    {"cart_items", std::int64_t{3}},
                    {"big", std::numeric_limits<std::uint64_t>::max()},
                    {"ratio", 0.25},
                    {"express", false}};
  s->metadata = {{"default", {{"cart", {{"skus", {"A-1", "B-2"}}, {"total", 42.5}}}}},
                 {"debug", {{"n", 1}, {"s", "x"}}}};
  s->children = {make_subsegment(0xe5e4c9b1ef6a45e2ULL, s->id, "DynamoDB")};

  const std::string plugin_origin = "AWS::EC2::Instance";
  const nlohmann::json plugin_aws = {{"ec2", {{"instance_id", "i-0a1b2c3d4e5f67890"}}},
                                     {"ecs", {{"container", "ip-10-0-2-100"}}}};
  const nlohmann::json doc = serialize(*s, DocumentContext{kTraceId, &plugin_origin, &plugin_aws});

  EXPECT_EQ(doc["name"], "checkout");
  EXPECT_EQ(doc["id"], "70de5b6f19ff9a0a");
  EXPECT_EQ(doc["trace_id"], kTraceId);
  EXPECT_EQ(doc["parent_id"], "53995c3f42cd8ad8");
  EXPECT_FALSE(doc.contains("type"));
  EXPECT_DOUBLE_EQ(doc["start_time"].get<double>(), 1478293361.271);
  EXPECT_DOUBLE_EQ(doc["end_time"].get<double>(), 1478293361.449123);
  EXPECT_FALSE(doc.contains("in_progress"));
  EXPECT_EQ(doc["user"], "user-42");
  EXPECT_EQ(doc["resource_arn"], "arn:aws:ecs:us-west-2:111122223333:service/checkout");
  EXPECT_EQ(doc["origin"], "AWS::ECS::Container");  // the entity's origin wins
  EXPECT_EQ(
      doc["service"],
      (nlohmann::json{{"version", "2.3.1"}, {"runtime", "C++"}, {"runtime_version", "C++17"}}));
  EXPECT_EQ(doc["http"],
            (nlohmann::json{{"request",
                             {{"method", "POST"},
                              {"url", "https://shop.example.com/api/checkout"},
                              {"user_agent", "curl/7.88.1"},
                              {"client_ip", "203.0.113.7"},
                              {"x_forwarded_for", true}}},
                            {"response", {{"status", 200}, {"content_length", 861}}}}));
  EXPECT_EQ(doc["aws"], (nlohmann::json{{"account_id", "111122223333"},
                                        {"ec2", {{"instance_id", "i-0a1b2c3d4e5f67890"}}},
                                        {"ecs", {{"container", "ip-10-0-2-100"}}},
                                        {"xray",
                                         {{"sdk", "X-Ray for C++"},
                                          {"sdk_version", std::string(kSdkVersion)},
                                          {"sampling_rule_name", "base-scorekeep"}}}}));
  EXPECT_EQ(doc["error"], true);
  EXPECT_EQ(doc["throttle"], true);
  EXPECT_EQ(doc["fault"], true);

  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  const nlohmann::json expected_cause = {
      {"working_directory", cwd},
      {"exceptions",
       {{{"id", "2c7a3b1e9f0d4a65"},
         {"type", "checkout::UpstreamError"},
         {"message", "inventory returned 503"},
         {"remote", true},
         {"truncated", 3},
         {"skipped", 2},
         {"cause", "8e1f0c2d3b4a5968"},
         {"stack",
          {{{"path", "src/cart.cpp"}, {"line", 118}, {"label", "checkout::Cart::reserve"}},
           {{"path", "src/handler.cpp"}, {"line", 57}, {"label", "checkout::handle_post"}}}}},
        {{"id", "8e1f0c2d3b4a5968"},
         {"type", "std::system_error"},
         {"message", "Connection reset by peer"}}}}};
  EXPECT_EQ(doc["cause"], expected_cause);

  EXPECT_EQ(doc["annotations"], (nlohmann::json{{"customer_tier", "gold"},
                                                {"cart_items", 3},
                                                {"big", std::numeric_limits<std::uint64_t>::max()},
                                                {"ratio", 0.25},
                                                {"express", false}}));
  EXPECT_EQ(doc["annotations"]["big"].get<std::uint64_t>(),
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(doc["metadata"],
            (nlohmann::json{{"default", {{"cart", {{"skus", {"A-1", "B-2"}}, {"total", 42.5}}}}},
                            {"debug", {{"n", 1}, {"s", "x"}}}}));
  ASSERT_EQ(doc["subsegments"].size(), 1u);
  EXPECT_EQ(doc["subsegments"][0]["name"], "DynamoDB");
  EXPECT_EQ(doc.size(), 19u);  // nothing else
}

TEST_F(SerializerTest, ContextOriginAppliesWhenEntityHasNone) {
  auto s = make_segment();
  const std::string plugin_origin = "AWS::EC2::Instance";
  EXPECT_EQ(serialize(*s, DocumentContext{kTraceId, &plugin_origin, nullptr})["origin"],
            "AWS::EC2::Instance");
  const std::string empty;
  EXPECT_FALSE(serialize(*s, DocumentContext{kTraceId, &empty, nullptr}).contains("origin"));
  EXPECT_FALSE(serialize(*s).contains("origin"));
}

TEST_F(SerializerTest, EntityAwsKeysWinOverPluginKeysAndXrayBelongsToTheSdk) {
  auto s = make_segment();
  s->aws = {{"ec2", {{"instance_id", "i-user"}}}, {"xray", {{"sdk", "spoofed"}}}};
  const nlohmann::json plugin_aws = {{"ec2", {{"instance_id", "i-plugin"}}},
                                     {"eks", {{"pod", "p"}}},
                                     {"xray", {{"sdk", "plugin"}}}};
  const nlohmann::json doc = serialize(*s, DocumentContext{kTraceId, nullptr, &plugin_aws});
  EXPECT_EQ(doc["aws"]["ec2"]["instance_id"], "i-user");
  EXPECT_EQ(doc["aws"]["eks"]["pod"], "p");
  EXPECT_EQ(doc["aws"]["xray"]["sdk"], "X-Ray for C++");
  EXPECT_EQ(doc["aws"].size(), 3u);
}

TEST_F(SerializerTest, InProgressReplacesEndTime) {
  auto s = make_segment();
  s->in_progress = true;
  const nlohmann::json doc = serialize(*s);
  EXPECT_EQ(doc["in_progress"], true);
  EXPECT_FALSE(doc.contains("end_time"));
}

TEST_F(SerializerTest, AbsentFieldsAndFalseFlagsAreOmitted) {
  auto s = make_segment();
  s->http = HttpData{};                  // nothing recorded
  s->http->request = HttpRequestInfo{};  // all empty
  s->aws = nlohmann::json::object();
  s->metadata = {{"default", {}}};
  s->sql = SqlInfo{};
  s->sql->database_type = "MySQL";  // sql is a subsegment field
  const nlohmann::json doc = serialize(*s);
  for (const char* key : {"parent_id", "type", "in_progress", "namespace", "user", "resource_arn",
                          "origin", "http", "sql", "error", "throttle", "fault", "cause",
                          "annotations", "metadata", "precursor_ids", "subsegments"}) {
    EXPECT_FALSE(doc.contains(key)) << key;
  }
  EXPECT_FALSE(doc["service"].contains("version"));
  EXPECT_FALSE(doc["aws"]["xray"].contains("sampling_rule_name"));
  std::string out;
  write_document(out, *s, DocumentContext{kTraceId});
  EXPECT_EQ(out.find("null"), std::string::npos) << out;
}

TEST_F(SerializerTest, HttpWithOnlyAResponseOrOnlyARequest) {
  auto s = make_subsegment(1, 2, "remote");
  s->http = HttpData{};
  s->http->status = 503;
  nlohmann::json doc = serialize(*s);
  EXPECT_EQ(doc["http"], (nlohmann::json{{"response", {{"status", 503}}}}));

  s->http = HttpData{};
  s->http->content_length = 0;
  doc = serialize(*s);
  EXPECT_EQ(doc["http"], (nlohmann::json{{"response", {{"content_length", 0}}}}));

  s->http = HttpData{};
  s->http->request = HttpRequestInfo{"GET", "https://api.example.com/health", "", "", false, true};
  doc = serialize(*s);
  EXPECT_EQ(
      doc["http"],
      (nlohmann::json{
          {"request",
           {{"method", "GET"}, {"url", "https://api.example.com/health"}, {"traced", true}}}}));
}

TEST_F(SerializerTest, IndependentSubsegmentCarriesTypeTraceIdAndParentId) {
  auto sub = make_subsegment(0x53995c3f42cd8ad8ULL, 0xdefdfd9912dc5a56ULL, "api.example.com");
  sub->namespace_ = "remote";
  sub->origin = "ignored";
  sub->sampling_rule_name = "ignored";
  sub->service_version = "ignored";
  const std::string plugin_origin = "AWS::EC2::Instance";
  const nlohmann::json plugin_aws = {{"ec2", {{"instance_id", "i-1"}}}};
  const nlohmann::json doc =
      serialize(*sub, DocumentContext{kTraceId, &plugin_origin, &plugin_aws});
  const nlohmann::json expected = {
      {"name", "api.example.com"},       {"id", "53995c3f42cd8ad8"}, {"trace_id", kTraceId},
      {"parent_id", "defdfd9912dc5a56"}, {"type", "subsegment"},     {"start_time", 1478293361.3},
      {"end_time", 1478293361.351},      {"namespace", "remote"},
  };
  EXPECT_EQ(doc, expected);
}

TEST_F(SerializerTest, IndependentSubsegmentAlwaysHasParentId) {
  const nlohmann::json doc = serialize(*make_subsegment(1, 0, "orphan"));
  EXPECT_EQ(doc["parent_id"], "0000000000000000");
}

TEST_F(SerializerTest, EmbeddedSubsegmentsOmitTypeTraceIdAndParentId) {
  auto s = make_segment();
  auto a = make_subsegment(0xa, s->id, "A");
  auto a1 = make_subsegment(0xa1, a->id, "A1");
  a->children = {a1};
  s->children = {a};
  const nlohmann::json doc = serialize(*s);
  for (const nlohmann::json* sub :
       {&doc["subsegments"][0], &doc["subsegments"][0]["subsegments"][0]}) {
    EXPECT_FALSE(sub->contains("type"));
    EXPECT_FALSE(sub->contains("trace_id"));
    EXPECT_FALSE(sub->contains("parent_id"));
    EXPECT_FALSE(sub->contains("service"));
    EXPECT_FALSE(sub->contains("aws"));
  }
  EXPECT_EQ(doc["subsegments"][0]["id"], "000000000000000a");
  EXPECT_EQ(doc["subsegments"][0]["subsegments"][0]["id"], "00000000000000a1");
}

TEST_F(SerializerTest, ChildrenKeepTheirOrderAtEveryLevel) {
  auto s = make_segment();
  auto a = make_subsegment(0xa, s->id, "A");
  auto b = make_subsegment(0xb, s->id, "B");
  auto c = make_subsegment(0xc, s->id, "C");
  b->children = {make_subsegment(0xb1, 0xb, "B1"), make_subsegment(0xb2, 0xb, "B2"),
                 make_subsegment(0xb3, 0xb, "B3")};
  b->children[1]->children = {make_subsegment(0xb21, 0xb2, "B2a")};
  s->children = {a, b, c};
  const nlohmann::json doc = serialize(*s);
  const nlohmann::json& subs = doc["subsegments"];
  ASSERT_EQ(subs.size(), 3u);
  EXPECT_EQ(subs[0]["name"], "A");
  EXPECT_EQ(subs[1]["name"], "B");
  EXPECT_EQ(subs[2]["name"], "C");
  EXPECT_FALSE(subs[0].contains("subsegments"));
  ASSERT_EQ(subs[1]["subsegments"].size(), 3u);
  EXPECT_EQ(subs[1]["subsegments"][0]["name"], "B1");
  EXPECT_EQ(subs[1]["subsegments"][1]["name"], "B2");
  EXPECT_EQ(subs[1]["subsegments"][2]["name"], "B3");
  EXPECT_EQ(subs[1]["subsegments"][1]["subsegments"][0]["name"], "B2a");
}

TEST_F(SerializerTest, DeeplyNestedSubsegmentsStayValid) {
  auto s = make_segment();
  Entity* parent = s.get();
  for (int i = 0; i < 80; ++i) {
    auto child = make_subsegment(static_cast<EntityId>(i + 1), parent->id, "n" + std::to_string(i));
    child->annotations = {{"i", std::int64_t{i}}};
    parent->children = {child};
    parent = child.get();
  }
  const nlohmann::json doc = serialize(*s);
  const nlohmann::json* node = &doc;
  for (int i = 0; i < 80; ++i) {
    ASSERT_EQ((*node)["subsegments"].size(), 1u);
    node = &(*node)["subsegments"][0];
    EXPECT_EQ((*node)["name"], "n" + std::to_string(i));
    EXPECT_EQ((*node)["annotations"]["i"], i);
  }
}

TEST_F(SerializerTest, SubsegmentFields) {
  auto sub = make_subsegment(0x1c9b2f0e7a3d4b55ULL, 0x70de5b6f19ff9a0aULL, "db");
  sub->namespace_ = "remote";
  sub->aws = {{"operation", "UpdateItem"}, {"retries", 0}};
  sub->sql = SqlInfo{"Server=db;Database=x",
                     "postgresql://app@db:5432/orders",
                     "SELECT * FROM t WHERE id = ?",
                     "PostgreSQL",
                     "15.2",
                     "libpq 15",
                     "app",
                     "statement"};
  sub->precursor_ids = {0xa, 0xb};
  sub->cause_id = 0x2c7a3b1e9f0d4a65ULL;
  sub->fault = true;
  const nlohmann::json doc = serialize(*sub);
  EXPECT_EQ(doc["aws"], (nlohmann::json{{"operation", "UpdateItem"}, {"retries", 0}}));
  EXPECT_EQ(doc["sql"], (nlohmann::json{{"connection_string", "Server=db;Database=x"},
                                        {"url", "postgresql://app@db:5432/orders"},
                                        {"sanitized_query", "SELECT * FROM t WHERE id = ?"},
                                        {"database_type", "PostgreSQL"},
                                        {"database_version", "15.2"},
                                        {"driver_version", "libpq 15"},
                                        {"user", "app"},
                                        {"preparation", "statement"}}));
  EXPECT_EQ(doc["precursor_ids"], (nlohmann::json{"000000000000000a", "000000000000000b"}));
  EXPECT_EQ(doc["cause"], "2c7a3b1e9f0d4a65");
  EXPECT_EQ(doc["fault"], true);
  EXPECT_FALSE(doc.contains("error"));
  EXPECT_FALSE(doc.contains("throttle"));
}

TEST_F(SerializerTest, SqlWritesOnlyNonEmptyFields) {
  auto sub = make_subsegment(1, 2, "db");
  sub->sql = SqlInfo{};
  sub->sql->database_type = "MySQL";
  sub->sql->preparation = "call";
  EXPECT_EQ(serialize(*sub)["sql"],
            (nlohmann::json{{"database_type", "MySQL"}, {"preparation", "call"}}));
  sub->sql = SqlInfo{};
  EXPECT_FALSE(serialize(*sub).contains("sql"));
}

TEST_F(SerializerTest, ExceptionsTakePrecedenceOverCauseId) {
  auto sub = make_subsegment(1, 2, "x");
  sub->cause_id = 0x1234;
  ExceptionRecord ex;
  ex.id = 0x99;
  sub->exceptions = {ex};
  const nlohmann::json doc = serialize(*sub);
  ASSERT_TRUE(doc["cause"].is_object());
  EXPECT_EQ(doc["cause"]["exceptions"], (nlohmann::json{{{"id", "0000000000000099"}}}));
}

TEST_F(SerializerTest, StackFramesOmitUnknownParts) {
  auto sub = make_subsegment(1, 2, "x");
  ExceptionRecord ex;
  ex.id = 0x99;
  ex.stack = {{"", 0, "f"}, {"a.cpp", 0, ""}};
  sub->exceptions = {ex};
  EXPECT_EQ(serialize(*sub)["cause"]["exceptions"][0]["stack"],
            (nlohmann::json{{{"label", "f"}}, {{"path", "a.cpp"}}}));
}

TEST_F(SerializerTest, NonFiniteValuesBecomeNullNeverInvalidJson) {
  auto s = make_segment();
  s->annotations = {{"nan", std::numeric_limits<double>::quiet_NaN()}};
  s->metadata = {{"default", {{"inf", std::numeric_limits<double>::infinity()}}}};
  const nlohmann::json doc = serialize(*s);
  EXPECT_TRUE(doc["annotations"]["nan"].is_null());
  EXPECT_TRUE(doc["metadata"]["default"]["inf"].is_null());
}

TEST_F(SerializerTest, AnnotationsKeepInsertionOrder) {
  auto s = make_segment();
  s->annotations = {{"zeta", true}, {"alpha", std::int64_t{-1}}, {"mid", std::string("m")}};
  std::string out;
  write_document(out, *s, DocumentContext{kTraceId});
  EXPECT_NE(out.find(R"("annotations":{"zeta":true,"alpha":-1,"mid":"m"})"), std::string::npos)
      << out;
}

TEST_F(SerializerTest, EscapesUserStrings) {
  auto s = make_segment();
  s->name = "a\"b\\c\n\xFF";
  s->user = std::string("nul\0byte", 8);
  s->annotations = {{"k", std::string("\xED\xA0\x80")}};
  s->metadata = {{"ns\"", {{"key\x01", std::string("v\xC0")}}}};
  const nlohmann::json doc = serialize(*s);
  EXPECT_EQ(doc["name"], "a\"b\\c\n\xEF\xBF\xBD");
  EXPECT_EQ(doc["user"], std::string("nul\0byte", 8));
  EXPECT_EQ(doc["annotations"]["k"], "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(doc["metadata"]["ns\""]["key\x01"], "v\xEF\xBF\xBD");
}

TEST_F(SerializerTest, AppendsAfterTheDatagramHeader) {
  std::string out(kDatagramHeader);
  write_document(out, *make_segment(), DocumentContext{kTraceId});
  ASSERT_EQ(out.compare(0, kDatagramHeader.size(), kDatagramHeader), 0);
  const std::size_t newline = out.find('\n');
  ASSERT_EQ(newline + 1, kDatagramHeader.size());
  EXPECT_EQ(nlohmann::json::parse(out.substr(0, newline)),
            (nlohmann::json{{"format", "json"}, {"version", 1}}));
  EXPECT_EQ(nlohmann::json::parse(out.substr(newline + 1))["name"], "checkout");
  EXPECT_EQ(out.find('\n', newline + 1), std::string::npos);
}

}  // namespace
}  // namespace xray::detail
