#include "http/http_client.hpp"

#include <gtest/gtest.h>

#include "support/fake_http_server.hpp"

namespace xray::detail {
namespace {

using testing::FakeHttpServer;
using testing::HttpReply;
using testing::RecordedRequest;

HttpRequest make_request(std::string method, std::uint16_t port, std::string target = "/") {
  HttpRequest request;
  request.method = std::move(method);
  request.host = "127.0.0.1";
  request.port = port;
  request.target = std::move(target);
  return request;
}

HttpDeadlines within(std::chrono::milliseconds total) {
  HttpDeadlines deadlines;
  deadlines.connect = std::chrono::milliseconds(500);
  deadlines.deadline = std::chrono::steady_clock::now() + total;
  return deadlines;
}

TEST(HttpClientTest, SendsMethodTargetHeadersAndBody) {
  FakeHttpServer server([](const RecordedRequest& r) {
    return HttpReply{200, {{"X-Reply", "yes"}}, "echo:" + r.body};
  });
  HttpRequest request = make_request("PUT", server.port(), "/latest/api/token");
  request.headers = {{"X-Ttl", "60"}};
  request.body = "payload";
  HttpResult result = http_request(request, within(std::chrono::seconds(2)));
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.response->status, 200);
  EXPECT_EQ(result.response->body, "echo:payload");
  ASSERT_NE(result.response->header("x-reply"), nullptr);
  EXPECT_EQ(*result.response->header("x-reply"), "yes");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, "/latest/api/token");
  EXPECT_EQ(requests[0].header("X-Ttl"), "60");
  EXPECT_EQ(requests[0].header("Host"), "127.0.0.1:" + std::to_string(server.port()));
}

TEST(HttpClientTest, ReturnsErrorStatusesAsResponses) {
  FakeHttpServer server([](const RecordedRequest&) { return HttpReply{500, {}, "oops"}; });
  HttpResult result = http_request(make_request("GET", server.port()), within(std::chrono::seconds(2)));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.response->status, 500);
}

TEST(HttpClientTest, RejectsBodiesOverTheCap) {
  FakeHttpServer server([](const RecordedRequest&) { return HttpReply{200, {}, std::string(2000, 'x')}; });
  HttpDeadlines deadlines = within(std::chrono::seconds(2));
  deadlines.max_body_bytes = 1000;
  HttpResult result = http_request(make_request("GET", server.port()), deadlines);
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(result.error.empty());
}

TEST(HttpClientTest, GivesUpByTheDeadlineWhenTheServerNeverAnswers) {
  FakeHttpServer server([](const RecordedRequest&) { return HttpReply::hang_up(); });
  HttpResult result = http_request(make_request("GET", server.port()), within(std::chrono::milliseconds(200)));
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("read"), std::string::npos) << result.error;
}

TEST(HttpClientTest, ReportsAConnectionClosedWithoutReply) {
  FakeHttpServer server([](const RecordedRequest&) { return HttpReply::close_at_once(); });
  HttpResult result = http_request(make_request("GET", server.port()), within(std::chrono::seconds(2)));
  EXPECT_FALSE(result.ok());
}

TEST(HttpClientTest, ReportsAClosedPort) {
  std::uint16_t port;
  {
    FakeHttpServer server(nullptr);
    port = server.port();
  }
  HttpResult result = http_request(make_request("GET", port), within(std::chrono::seconds(2)));
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("connect"), std::string::npos) << result.error;
}

TEST(HttpClientTest, TlsWithoutACaFileFailsCleanly) {
  FakeHttpServer server(nullptr);
  HttpRequest request = make_request("GET", server.port());
  request.tls = true;
  request.ca_file = "/nonexistent/ca.crt";
  HttpResult result = http_request(request, within(std::chrono::seconds(2)));
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("TLS"), std::string::npos) << result.error;
}

TEST(ParseHttpUrlTest, AcceptsHttpAndHttpsWithPortsAndPaths) {
  auto a = parse_http_url("http://169.254.170.2/v4/abc");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->host, "169.254.170.2");
  EXPECT_EQ(a->port, 80);
  EXPECT_EQ(a->target, "/v4/abc");
  auto b = parse_http_url("https://kubernetes.default.svc:6443");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->port, 6443);
  EXPECT_EQ(b->target, "/");
  auto c = parse_http_url("http://[::1]:8080/x");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 8080);
}

TEST(ParseHttpUrlTest, RejectsOtherSchemesAndBadPorts) {
  EXPECT_FALSE(parse_http_url("ftp://host/"));
  EXPECT_FALSE(parse_http_url("169.254.170.2/v4"));
  EXPECT_FALSE(parse_http_url("http://host:0/"));
  EXPECT_FALSE(parse_http_url("http://host:70000/"));
  EXPECT_FALSE(parse_http_url("http://host:8a/"));
  EXPECT_FALSE(parse_http_url("http:///path"));
  EXPECT_FALSE(parse_http_url("http://[::1/"));
}

}  // namespace
}  // namespace xray::detail
