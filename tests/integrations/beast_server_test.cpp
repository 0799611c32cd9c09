// Tests for the Beast middleware (xray/beast.hpp, server side): real servers on 127.0.0.1, driven
// by libcurl; the documents the fake daemon receives are checked field by field.
#include "xray/beast.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "integrations/http_fixture.hpp"
#include "support/fake_daemon.hpp"
#include "support/test_recorder.hpp"
#include "xray/curl.hpp"

namespace {

using nlohmann::json;
using ::testing::IsEmpty;
using namespace xray::testing;
namespace beast = xray::beast;

constexpr char kRoot[] = "1-5759e988-bd862e3fe1be46a994272793";
constexpr char kParent[] = "53995c3f42cd8ad8";
constexpr auto kWait = std::chrono::seconds(5);

class BeastServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(configure(recorder_, config_for(daemon_, "svc"), {{"AWS_XRAY_NOOP_ID", "false"}}).ok());
    options_.recorder = &recorder_;
  }

  // A traced server whose handler answers `status` with body "hello".
  std::unique_ptr<TestServer> serve(http::status status = http::status::ok) {
    auto handler = beast::traced(
        [status](const Request& request) { return make_response(request, status, "hello"); },
        options_);
    return std::make_unique<TestServer>(
        [handler](const Request& request, const std::string& peer) mutable {
          return handler(request, peer);
        });
  }

  // The single segment received after one request.
  json one_segment() {
    EXPECT_TRUE(recorder_.flush(kWait));
    EXPECT_TRUE(daemon_.wait_for_documents(1, kWait));
    auto documents = daemon_.documents();
    EXPECT_EQ(documents.size(), 1u);
    return documents.empty() ? json() : documents[0];
  }

  FakeDaemon daemon_;
  xray::Recorder recorder_;
  beast::ServerOptions options_;
};

TEST_F(BeastServerTest, SampledOneAdoptsRootAndParentAndRecordsHttp) {
  auto server = serve();
  Reply reply = plain_get(server->url("/orders/42?secret=1"),
                          {std::string("X-Amzn-Trace-Id: Root=") + kRoot + ";Parent=" + kParent +
                           ";Sampled=1"});
  ASSERT_EQ(reply.code, CURLE_OK);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "hello");
  EXPECT_EQ(reply.headers["x-amzn-trace-id"], std::string("Root=") + kRoot + ";Sampled=1");

  json segment = one_segment();
  EXPECT_EQ(segment["name"], "svc");
  EXPECT_EQ(segment["trace_id"], kRoot);
  EXPECT_EQ(segment["parent_id"], kParent);
  const json& request = segment["http"]["request"];
  EXPECT_EQ(request["method"], "GET");
  EXPECT_EQ(request["url"], server->url("/orders/42"));  // no query by default
  EXPECT_EQ(request["user_agent"], "xray-test/1.0");
  EXPECT_EQ(request["client_ip"], "127.0.0.1");
  EXPECT_FALSE(request.contains("x_forwarded_for"));
  EXPECT_EQ(segment["http"]["response"]["status"], 200);
  EXPECT_EQ(segment["http"]["response"]["content_length"], 5);
  EXPECT_FALSE(segment.contains("error"));
  EXPECT_FALSE(segment.contains("fault"));
  EXPECT_THAT(daemon_.errors(), IsEmpty());
}

TEST_F(BeastServerTest, SampledZeroIsObeyedAndAnswered) {
  auto server = serve();
  Reply reply = plain_get(server->url("/a"),
                          {std::string("X-Amzn-Trace-Id: Root=") + kRoot + ";Sampled=0"});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.headers["x-amzn-trace-id"], std::string("Root=") + kRoot + ";Sampled=0");
  // A sampled request afterwards is the only document: the unsampled one sent nothing.
  plain_get(server->url("/b"));
  json segment = one_segment();
  EXPECT_EQ(segment["http"]["request"]["url"], server->url("/b"));
}

TEST_F(BeastServerTest, SampledRequestedAndAbsentLetTheSamplerDecideAndAnswer) {
  auto server = serve();
  Reply requested = plain_get(server->url("/q"),
                              {std::string("X-Amzn-Trace-Id: Root=") + kRoot + ";Sampled=?"});
  EXPECT_EQ(requested.headers["x-amzn-trace-id"], std::string("Root=") + kRoot + ";Sampled=1");
  Reply absent = plain_get(server->url("/n"));
  ASSERT_TRUE(recorder_.flush(kWait));
  ASSERT_TRUE(daemon_.wait_for_documents(2, kWait));
  auto documents = daemon_.documents();
  ASSERT_EQ(documents.size(), 2u);
  const json& fresh = documents[0]["trace_id"] == kRoot ? documents[1] : documents[0];
  EXPECT_NE(fresh["trace_id"], kRoot);
  EXPECT_FALSE(fresh.contains("parent_id"));
  EXPECT_EQ(absent.headers["x-amzn-trace-id"],
            "Root=" + fresh["trace_id"].get<std::string>() + ";Sampled=1");
}

TEST_F(BeastServerTest, SamplerSeesHostMethodAndPath) {
  xray::Config config = config_for(daemon_, "svc");
  config.sampling = xray::Sampling::local_rules_json(
      R"({"version": 2, "default": {"fixed_target": 0, "rate": 1.0},
          "rules": [{"host": "*.example.com", "http_method": "GET", "url_path": "/health",
                     "fixed_target": 0, "rate": 0}]})");
  ASSERT_TRUE(configure(recorder_, config, {{"AWS_XRAY_NOOP_ID", "false"}}).ok());
  auto server = serve();
  Reply health = plain_get(server->url("/health?x=1"), {"Host: api.example.com:8080"});
  EXPECT_THAT(health.headers["x-amzn-trace-id"], ::testing::EndsWith(";Sampled=0"));
  Reply other = plain_get(server->url("/other"), {"Host: api.example.com:8080"});
  EXPECT_THAT(other.headers["x-amzn-trace-id"], ::testing::EndsWith(";Sampled=1"));
  json segment = one_segment();
  EXPECT_EQ(segment["http"]["request"]["url"], "http://api.example.com:8080/other");
}

TEST_F(BeastServerTest, MalformedAndOverlongHeadersStartNewTraces) {
  auto server = serve();
  plain_get(server->url("/m"), {"X-Amzn-Trace-Id: ;;=;Root=1-zzz;Parent=foo;Sampled"});
  std::string longer = std::string("X-Amzn-Trace-Id: Root=") + kRoot + ";Parent=" + kParent;
  for (int i = 0; i < 200; ++i) longer += ";k" + std::to_string(i) + "=" + std::string(10, 'v');
  Reply reply = plain_get(server->url("/l"), {longer});
  EXPECT_EQ(reply.status, 200);
  ASSERT_TRUE(recorder_.flush(kWait));
  ASSERT_TRUE(daemon_.wait_for_documents(2, kWait));
  auto documents = daemon_.documents();
  ASSERT_EQ(documents.size(), 2u);
  for (const auto& segment : documents) {
    if (segment["http"]["request"]["url"] == server->url("/m")) {
      EXPECT_NE(segment["trace_id"], kRoot);
      EXPECT_FALSE(segment.contains("parent_id"));  // Parent of an invalid Root is ignored
    } else {
      EXPECT_EQ(segment["trace_id"], kRoot);  // extras over budget are dropped, Root kept
      EXPECT_EQ(segment["parent_id"], kParent);
    }
  }
  EXPECT_THAT(daemon_.errors(), IsEmpty());
}

TEST_F(BeastServerTest, RootOnlyHeaderIsAdopted) {
  auto server = serve();
  Reply reply = plain_get(server->url("/r"), {std::string("X-Amzn-Trace-Id: Root=") + kRoot});
  EXPECT_EQ(reply.headers["x-amzn-trace-id"], std::string("Root=") + kRoot + ";Sampled=1");
  json segment = one_segment();
  EXPECT_EQ(segment["trace_id"], kRoot);
  EXPECT_FALSE(segment.contains("parent_id"));
}

TEST_F(BeastServerTest, StatusesMapToFlags) {
  struct Case {
    http::status status;
    bool error, throttle, fault;
  };
  for (Case c : {Case{http::status::not_found, true, false, false},
                 Case{http::status::too_many_requests, true, true, false},
                 Case{http::status::internal_server_error, false, false, true}}) {
    daemon_.clear();
    auto server = serve(c.status);
    Reply reply = plain_get(server->url("/s"));
    EXPECT_EQ(reply.status, static_cast<long>(c.status));
    json segment = one_segment();
    SCOPED_TRACE(static_cast<int>(c.status));
    EXPECT_EQ(segment["http"]["response"]["status"], static_cast<int>(c.status));
    EXPECT_EQ(segment.value("error", false), c.error);
    EXPECT_EQ(segment.value("throttle", false), c.throttle);
    EXPECT_EQ(segment.value("fault", false), c.fault);
  }
}

TEST_F(BeastServerTest, HandlerExceptionIsRecordedAndRethrown) {
  auto handler = beast::traced(
      [](const Request&) -> Response { throw std::runtime_error("handler failed"); }, options_);
  TestServer server([&handler](const Request& request, const std::string& peer) {
    return handler(request, peer);  // the exception reaches the server, which answers 500
  });
  Reply reply = plain_get(server.url("/boom"));
  EXPECT_EQ(reply.status, 500);
  json segment = one_segment();
  EXPECT_TRUE(segment.value("fault", false));
  EXPECT_EQ(segment["http"]["response"]["status"], 500);
  const json& exception = segment["cause"]["exceptions"][0];
  EXPECT_EQ(exception["type"], "std::runtime_error");
  EXPECT_EQ(exception["message"], "handler failed");
}

TEST_F(BeastServerTest, ForwardedHeadersAndHostPatternName) {
  options_.host_pattern = "*.example.com";
  options_.fallback_name = "unknown-host";
  options_.record_query = true;
  auto server = serve();
  plain_get(server->url("/f?x=1"), {"Host: api.example.com:8080", "X-Forwarded-Proto: https",
                                    "X-Forwarded-For:  203.0.113.7 , 10.0.0.1"});
  json segment = one_segment();
  EXPECT_EQ(segment["name"], "api.example.com");
  const json& request = segment["http"]["request"];
  EXPECT_EQ(request["url"], "https://api.example.com:8080/f?x=1");
  EXPECT_EQ(request["client_ip"], "203.0.113.7");
  EXPECT_EQ(request["x_forwarded_for"], true);

  daemon_.clear();
  plain_get(server->url("/g"), {"Host: other.org"});
  EXPECT_EQ(one_segment()["name"], "unknown-host");
}

TEST_F(BeastServerTest, RepeatedHeadersYieldTheirFirstLineWhateverTheirCase) {
  auto server = serve();
  Reply reply = plain_get(
      server->url("/r"),
      {std::string("x-amzn-trace-id: Root=") + kRoot + ";Parent=" + kParent + ";Sampled=1",
       "X-Amzn-Trace-Id: Root=1-5759e988-00000000000000000000000f;Sampled=0",
       "x-forwarded-proto: https", "X-Forwarded-Proto: ftp",
       "X-FORWARDED-FOR: 203.0.113.7, 10.0.0.1", "X-Forwarded-For: 198.51.100.1"});
  EXPECT_EQ(reply.headers["x-amzn-trace-id"], std::string("Root=") + kRoot + ";Sampled=1");
  json segment = one_segment();
  EXPECT_EQ(segment["trace_id"], kRoot);
  EXPECT_EQ(segment["parent_id"], kParent);
  const json& request = segment["http"]["request"];
  EXPECT_EQ(request["url"].get<std::string>().rfind("https://", 0), 0u) << request["url"];
  EXPECT_EQ(request["client_ip"], "203.0.113.7");
}

// A W3C trace id X-Ray can take: its first 8 hex digits are the current second.
std::string fresh_w3c_trace_id() {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  char start[9];
  std::snprintf(start, sizeof start, "%08llx", static_cast<unsigned long long>(now.count()));
  return std::string(start) + "a3ce929d0e0e4736a3ce929d";
}

TEST_F(BeastServerTest, AcceptedTraceparentContinuesItsTrace) {
  options_.accept_traceparent = true;
  auto server = serve();
  const std::string w3c = fresh_w3c_trace_id();
  const std::string root = "1-" + w3c.substr(0, 8) + "-" + w3c.substr(8);
  Reply reply = plain_get(server->url("/otel"),
                          {"traceparent: 00-" + w3c + "-00f067aa0ba902b7-01",
                           "tracestate: rojo=00f067aa0ba902b7"});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.headers["x-amzn-trace-id"], "Root=" + root + ";Sampled=1");
  json segment = one_segment();
  EXPECT_EQ(segment["trace_id"], root);
  EXPECT_EQ(segment["parent_id"], "00f067aa0ba902b7");
  EXPECT_FALSE(segment.contains("metadata"));
}

TEST_F(BeastServerTest, TraceparentXRayCannotTakeStartsATraceThatRecordsTheW3cIds) {
  options_.accept_traceparent = true;
  auto server = serve();
  // The W3C suite's id: its first 8 digits read as 1979, older than X-Ray keeps traces.
  Reply reply = plain_get(
      server->url("/otel"), {"traceparent: 00-12345678901234567890123456789012-1234567890123456-01"});
  EXPECT_EQ(reply.status, 200);
  json segment = one_segment();
  EXPECT_NE(segment["trace_id"], "1-12345678-901234567890123456789012");
  EXPECT_FALSE(segment.contains("parent_id"));
  EXPECT_EQ(segment["metadata"]["w3c"]["trace_id"], "12345678901234567890123456789012");
  EXPECT_EQ(segment["metadata"]["w3c"]["parent_id"], "1234567890123456");
  // The caller's decision (01) is obeyed: sampled, not left to the sampler.
  EXPECT_EQ(reply.headers["x-amzn-trace-id"],
            "Root=" + segment["trace_id"].get<std::string>() + ";Sampled=1");
}

TEST_F(BeastServerTest, TraceparentIsReadOnlyWhenAcceptedAloneAndWellFormed) {
  const std::string w3c = fresh_w3c_trace_id();
  const std::string root = "1-" + w3c.substr(0, 8) + "-" + w3c.substr(8);
  const std::string line = "traceparent: 00-" + w3c + "-00f067aa0ba902b7-01";
  struct Case {
    const char* what;
    bool accept;
    std::vector<std::string> headers;
  };
  const std::vector<Case> cases = {
      {"not accepted", false, {line}},
      {"X-Amzn-Trace-Id wins", true, {std::string("X-Amzn-Trace-Id: Root=") + kRoot, line}},
      {"two traceparent lines", true, {line, "traceparent: 00-" + w3c + "-00f067aa0ba902b8-01"}},
      {"malformed", true, {"traceparent: 00-" + w3c + "-00f067aa0ba902b7-01."}},
  };
  for (const Case& c : cases) {
    options_.accept_traceparent = c.accept;
    auto server = serve();
    Reply reply = plain_get(server->url("/x"), c.headers);
    EXPECT_EQ(reply.status, 200) << c.what;
    json segment = one_segment();
    EXPECT_NE(segment["trace_id"], root) << c.what;
    EXPECT_NE(segment.value("parent_id", ""), "00f067aa0ba902b7") << c.what;
    EXPECT_FALSE(segment.contains("metadata")) << c.what;
    daemon_.clear();
  }
}

TEST_F(BeastServerTest, UnsampledTraceparentIsObeyed) {
  options_.accept_traceparent = true;
  auto server = serve();
  const std::string w3c = fresh_w3c_trace_id();
  Reply reply = plain_get(server->url("/otel"), {"traceparent: 00-" + w3c + "-00f067aa0ba902b7-00"});
  EXPECT_EQ(reply.headers["x-amzn-trace-id"],
            "Root=1-" + w3c.substr(0, 8) + "-" + w3c.substr(8) + ";Sampled=0");
  EXPECT_TRUE(recorder_.flush(kWait));
  EXPECT_EQ(daemon_.datagram_count(), 0u);
}

// Upstream (traced) -> libcurl -> downstream (traced): the downstream segment's parent is the
// upstream's remote subsegment, and Lineage and unknown fields travel along.
TEST_F(BeastServerTest, DownstreamJoinsThroughRemoteSubsegmentWithExtras) {
  std::mutex mutex;
  std::string seen_header;
  auto downstream_handler = beast::traced(
      [&](const Request& request) {
        std::lock_guard<std::mutex> lock(mutex);
        seen_header = std::string(request["X-Amzn-Trace-Id"]);
        return make_response(request, http::status::ok, "down");
      },
      [this] {
        beast::ServerOptions o = options_;
        o.name = "downstream";
        return o;
      }());
  TestServer downstream([&](const Request& r, const std::string& p) { return downstream_handler(r, p); });
  const std::string downstream_url = downstream.url("/down?token=1");
  options_.name = "upstream";
  auto upstream_handler = beast::traced(
      [&](const Request& request) {
        CURL* easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, +[](char*, std::size_t s, std::size_t n, void*) { return s * n; });
        xray::curl::Options call;
        call.recorder = &recorder_;
        call.traced = true;
        CURLcode code = xray::curl::perform(easy, downstream_url, call);
        curl_easy_cleanup(easy);
        return make_response(request, code == CURLE_OK ? http::status::ok : http::status::bad_gateway, "up");
      },
      options_);
  TestServer upstream([&](const Request& r, const std::string& p) { return upstream_handler(r, p); });

  Reply reply = plain_get(upstream.url("/call"),
                          {std::string("X-Amzn-Trace-Id: Root=") + kRoot + ";Parent=" + kParent +
                           ";Sampled=1;Lineage=a87bd80c:1;Foo=bar"});
  EXPECT_EQ(reply.status, 200);
  ASSERT_TRUE(recorder_.flush(kWait));
  ASSERT_TRUE(daemon_.wait_for_documents(2, kWait));
  auto entities = flatten(daemon_.documents());
  const json* up = find_by_name(entities, "upstream");
  const json* down = find_by_name(entities, "downstream");
  const json* remote = find_by_name(entities, "127.0.0.1");
  ASSERT_TRUE(up && down && remote);
  EXPECT_EQ((*up)["trace_id"], kRoot);
  EXPECT_EQ((*down)["trace_id"], kRoot);
  EXPECT_EQ((*down)["parent_id"], (*remote)["id"]);
  EXPECT_EQ((*remote)["namespace"], "remote");
  EXPECT_EQ((*remote)["http"]["request"]["url"], downstream.url("/down"));
  EXPECT_EQ((*remote)["http"]["request"]["traced"], true);
  EXPECT_EQ((*remote)["http"]["response"]["status"], 200);
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_EQ(seen_header, std::string("Root=") + kRoot + ";Parent=" +
                             (*remote)["id"].get<std::string>() + ";Sampled=1;Lineage=a87bd80c:1;Foo=bar");
  EXPECT_THAT(daemon_.errors(), IsEmpty());
}

// Many concurrent requests on a thread-per-connection server: every segment holds exactly the
// subsegment its own handler made.
TEST_F(BeastServerTest, ConcurrentRequestsDoNotMixSubsegments) {
  auto handler = beast::traced(
      [this](const Request& request) {
        std::string path(request.target());
        auto work = recorder_.begin_subsegment("work");
        work.put_annotation("path", path);
        return make_response(request, http::status::ok, path);
      },
      options_);
  TestServer server([&handler](const Request& r, const std::string& p) { return handler(r, p); });
  constexpr int kThreads = 4, kPerThread = 5;
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&server, t] {
      for (int i = 0; i < kPerThread; ++i) {
        plain_get(server.url("/p" + std::to_string(t) + "-" + std::to_string(i)));
      }
    });
  }
  for (auto& client : clients) client.join();
  ASSERT_TRUE(recorder_.flush(kWait));
  ASSERT_TRUE(daemon_.wait_for_documents(kThreads * kPerThread, kWait));
  std::set<std::string> paths;
  for (const json& segment : daemon_.documents()) {
    std::string url = segment["http"]["request"]["url"];
    std::string path = url.substr(url.find('/', std::string("http://").size()));
    ASSERT_EQ(segment["subsegments"].size(), 1u) << segment.dump();
    EXPECT_EQ(segment["subsegments"][0]["annotations"]["path"], path);
    paths.insert(path);
  }
  EXPECT_EQ(paths.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_THAT(daemon_.errors(), IsEmpty());
}

// The async shape: a RequestTracer made on one thread, a continuation bound with bind_context
// running later on a two-thread io_context, the segment ended from there.
TEST_F(BeastServerTest, RequestTracerWithBoundAsyncContinuation) {
  Request request{http::verb::post, "/async?x=1", 11};
  request.set(http::field::host, "svc.local");
  request.set("X-Amzn-Trace-Id", std::string("Root=") + kRoot + ";Sampled=1");
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread a([&io] { io.run(); }), b([&io] { io.run(); });

  auto tracer = std::make_shared<beast::RequestTracer>(request, "10.1.2.3", options_);
  EXPECT_FALSE(xray::current_context());  // not left current on the constructing thread
  auto timer = std::make_shared<boost::asio::steady_timer>(io, std::chrono::milliseconds(1));
  std::promise<void> done;
  timer->async_wait(beast::bind_context(tracer->context(), [&, tracer, timer](auto) {
    { auto step = recorder_.begin_subsegment("continuation"); }
    Response response = make_response(request, http::status::created, "made");
    tracer->record_response(response);
    EXPECT_EQ(std::string(response["X-Amzn-Trace-Id"]), std::string("Root=") + kRoot + ";Sampled=1");
    tracer->end();
    done.set_value();
  }));
  done.get_future().wait();
  work.reset();
  a.join();
  b.join();

  json segment = one_segment();
  EXPECT_EQ(segment["trace_id"], kRoot);
  EXPECT_EQ(segment["http"]["request"]["method"], "POST");
  EXPECT_EQ(segment["http"]["request"]["url"], "http://svc.local/async");
  EXPECT_EQ(segment["http"]["request"]["client_ip"], "10.1.2.3");
  EXPECT_EQ(segment["http"]["response"]["status"], 201);
  ASSERT_EQ(segment["subsegments"].size(), 1u);
  EXPECT_EQ(segment["subsegments"][0]["name"], "continuation");
}

}  // namespace
