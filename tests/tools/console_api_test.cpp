#include "console_api.hpp"

#include <gtest/gtest.h>

#include "console_assets.hpp"
#include "trace_store.hpp"

namespace xray::local {
namespace {

using nlohmann::json;

json segment(const std::string& trace, const std::string& name, double start, int status,
             json annotations = json::object()) {
  json s = {{"name", name}, {"id", trace.substr(trace.size() - 16)}, {"trace_id", trace},
            {"start_time", start}, {"end_time", start + 0.25},
            {"http", {{"request", {{"method", "GET"}, {"url", "http://shop/" + name}}},
                      {"response", {{"status", status}}}}}};
  if (status >= 500) s["fault"] = true;
  else if (status == 429) s["throttle"] = s["error"] = true;
  else if (status >= 400) s["error"] = true;
  if (!annotations.empty()) s["annotations"] = std::move(annotations);
  return s;
}

class ConsoleApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.add(segment("1-00000001-000000000000000000000001", "cart", 100, 200, {{"tier", "gold"}}), 1);
    store_.add(segment("1-00000002-000000000000000000000002", "cart", 200, 503), 2);
    store_.add(segment("1-00000003-000000000000000000000003", "orders", 300, 429), 3);
    store_.add(segment("1-00000004-000000000000000000000004", "orders", 400, 404, {{"tier", "silver"}}), 4);
  }

  json traces(const std::string& query) {
    const HttpReply reply = api_.get("/api/traces" + query, 500);
    EXPECT_EQ(reply.status, 200u);
    return json::parse(reply.body);
  }

  std::vector<std::string> services(const json& list) {
    std::vector<std::string> out;
    for (const json& t : list["traces"]) out.push_back(t["service"].get<std::string>() + "@" +
                                                         std::to_string(t["status"].get<int>()));
    return out;
  }

  TraceStore store_;
  ConsoleApi api_{ConsoleSources{&store_, nullptr, nullptr, {}}};
};

TEST_F(ConsoleApiTest, ListsNewestFirstWithTheListColumns) {
  const json list = traces("");
  EXPECT_EQ(list["total"], 4);
  EXPECT_EQ(list["matched"], 4);
  EXPECT_EQ(services(list), (std::vector<std::string>{"orders@404", "orders@429", "cart@503", "cart@200"}));
  const json& first = list["traces"][0];
  EXPECT_EQ(first["method"], "GET");
  EXPECT_EQ(first["url"], "http://shop/orders");
  EXPECT_EQ(first["status_class"], "error");
  EXPECT_NEAR(first["duration_ms"].get<double>(), 250, 1e-6);
  EXPECT_EQ(first["annotations"]["tier"], "silver");
}

TEST_F(ConsoleApiTest, FiltersByServiceStatusAnnotationTextTimeNodeAndEdge) {
  EXPECT_EQ(services(traces("?service=cart")), (std::vector<std::string>{"cart@503", "cart@200"}));
  EXPECT_EQ(services(traces("?status=fault")), std::vector<std::string>{"cart@503"});
  EXPECT_EQ(services(traces("?status=throttle")), std::vector<std::string>{"orders@429"});
  EXPECT_EQ(services(traces("?status=ok")), std::vector<std::string>{"cart@200"});
  EXPECT_EQ(services(traces("?annotation=tier%3Dgold")), std::vector<std::string>{"cart@200"});
  EXPECT_EQ(services(traces("?q=SHOP%2FOrd")), (std::vector<std::string>{"orders@404", "orders@429"}));
  EXPECT_EQ(services(traces("?since=150&until=350")), (std::vector<std::string>{"orders@429", "cart@503"}));
  EXPECT_EQ(services(traces("?node=service%3Aorders%7C")), (std::vector<std::string>{"orders@404", "orders@429"}));
  EXPECT_EQ(services(traces("?edge=client%20-%3E%20service%3Acart%7C")),
            (std::vector<std::string>{"cart@503", "cart@200"}));
  EXPECT_EQ(traces("?service=cart&limit=1")["traces"].size(), 1u);
  EXPECT_EQ(traces("?service=cart&limit=1")["matched"], 2);
}

TEST_F(ConsoleApiTest, OneTraceAndTheServiceMap) {
  HttpReply reply = api_.get("/api/traces/1-00000002-000000000000000000000002", 500);
  ASSERT_EQ(reply.status, 200u);
  const json trace = json::parse(reply.body);
  EXPECT_EQ(trace["roots"][0]["name"], "cart");
  EXPECT_EQ(trace["summary"]["status_class"], "fault");

  EXPECT_EQ(api_.get("/api/traces/1-nope", 500).status, 404u);
  reply = api_.get("/api/service-map?since=150", 500);
  const json map = json::parse(reply.body);
  EXPECT_EQ(map["traces"], 3);
  EXPECT_EQ(map["nodes"].size(), 3u);  // client, cart, orders
}

TEST_F(ConsoleApiTest, ServesTheEmbeddedConsoleAndStatistics) {
  const HttpReply page = api_.get("/", 0);
  EXPECT_EQ(page.status, 200u);
  EXPECT_EQ(page.content_type.rfind("text/html", 0), 0u);
  EXPECT_NE(page.body.find("app.js"), std::string::npos);
  for (const char* asset : {"/app.js", "/style.css"}) {
    ASSERT_NE(find_console_asset(asset), nullptr) << asset;
    EXPECT_EQ(api_.get(asset, 0).status, 200u);
    EXPECT_GT(api_.get(asset, 0).body.size(), 100u);
  }
  EXPECT_EQ(api_.get("/nothing-here", 0).status, 404u);
  const json stats = json::parse(api_.get("/api/stats", 0).body);
  EXPECT_EQ(stats["store"]["traces"], 4);
  EXPECT_EQ(stats["store"]["documents"], 4);
}

TEST(UrlDecodeTest, DecodesPercentAndPlus) {
  EXPECT_EQ(url_decode("a%3Db+c%2"), "a=b c%2");
  EXPECT_EQ(url_decode("%zz%41"), "%zzA");
}

}  // namespace
}  // namespace xray::local
