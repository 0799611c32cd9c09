// Tests for the libcurl integration (xray/curl.hpp): real servers on 127.0.0.1; the documents the
// fake daemon receives are checked field by field.
#include "xray/curl.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/beast/core/string.hpp>
#include <chrono>
#include <mutex>
#include <string>

#include "integrations/http_fixture.hpp"
#include "support/fake_daemon.hpp"
#include "support/test_recorder.hpp"

namespace {

using nlohmann::json;
using ::testing::IsEmpty;
using namespace xray::testing;

constexpr char kRoot[] = "1-5759e988-bd862e3fe1be46a994272793";
constexpr auto kWait = std::chrono::seconds(5);

std::size_t discard(char*, std::size_t size, std::size_t count, void*) { return size * count; }

class CurlClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    xray::Config config = config_for(daemon_, "caller");
    config.context_missing = xray::ContextMissing::kIgnoreError;
    ASSERT_TRUE(configure(recorder_, config, {{"AWS_XRAY_NOOP_ID", "false"}}).ok());
    easy_ = curl_easy_init();
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    // Close after each transfer: a kept-alive connection would hold the server's session thread
    // (joined when the server is destroyed) until TearDown.
    curl_easy_setopt(easy_, CURLOPT_FORBID_REUSE, 1L);
    options_.recorder = &recorder_;
  }
  void TearDown() override { curl_easy_cleanup(easy_); }

  // A plain server answering `status`, remembering the request headers it saw.
  std::unique_ptr<TestServer> serve(http::status status = http::status::ok) {
    return std::make_unique<TestServer>([this, status](const Request& request, const std::string&) {
      std::lock_guard<std::mutex> lock(mutex_);
      trace_headers_.clear();
      traceparents_.clear();
      for (const auto& field : request) {
        if (boost::beast::iequals(field.name_string(), "X-Amzn-Trace-Id")) trace_headers_.emplace_back(field.value());
        if (boost::beast::iequals(field.name_string(), "traceparent")) traceparents_.emplace_back(field.value());
      }
      tracestate_ = std::string(request["tracestate"]);
      custom_ = std::string(request["X-Custom"]);
      return make_response(request, status, "0123456789");
    });
  }

  // The one segment (sent when `segment` ends) and its one subsegment.
  std::pair<json, json> finish(xray::SegmentScope& segment) {
    segment.end();
    EXPECT_TRUE(recorder_.flush(kWait));
    EXPECT_TRUE(daemon_.wait_for_documents(1, kWait));
    auto documents = daemon_.documents();
    EXPECT_EQ(documents.size(), 1u);
    if (documents.empty() || !documents[0].contains("subsegments")) return {json(), json()};
    EXPECT_EQ(documents[0]["subsegments"].size(), 1u);
    return {documents[0], documents[0]["subsegments"][0]};
  }

  FakeDaemon daemon_;
  xray::Recorder recorder_;
  CURL* easy_ = nullptr;
  xray::curl::Options options_;
  std::mutex mutex_;
  std::vector<std::string> trace_headers_;  // guarded by mutex_
  std::string custom_;                      // guarded by mutex_
  std::vector<std::string> traceparents_;   // guarded by mutex_
  std::string tracestate_;                  // guarded by mutex_
};

TEST_F(CurlClientTest, RecordsRemoteSubsegmentAndInjectsHeader) {
  auto server = serve();
  auto segment = recorder_.begin_segment(
      "caller", xray::TraceHeader::parse(std::string("Root=") + kRoot +
                                         ";Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1;Foo=bar"));
  curl_slist* mine = curl_slist_append(nullptr, "X-Custom: kept");
  mine = curl_slist_append(mine, "x-amzn-trace-id: Root=1-00000000-000000000000000000000000;Sampled=0");
  options_.headers = mine;
  std::string url = server->url("/items/42?token=secret");
  url.insert(std::string("http://").size(), "user:pw@");
  ASSERT_EQ(xray::curl::perform(easy_, url, options_), CURLE_OK);
  std::string sub_header;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ASSERT_EQ(trace_headers_.size(), 1u);  // the caller's stale header was replaced
    sub_header = trace_headers_[0];
    EXPECT_EQ(custom_, "kept");
  }
  // The handle was given back the caller's list: a plain perform sends it without the trace header.
  ASSERT_EQ(curl_easy_perform(easy_), CURLE_OK);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ASSERT_EQ(trace_headers_.size(), 1u);
    EXPECT_EQ(trace_headers_[0], "Root=1-00000000-000000000000000000000000;Sampled=0");
  }
  curl_slist_free_all(mine);

  auto [doc, sub] = finish(segment);
  EXPECT_EQ(sub["name"], "127.0.0.1");
  EXPECT_EQ(sub["namespace"], "remote");
  EXPECT_EQ(sub["http"]["request"]["method"], "GET");
  EXPECT_EQ(sub["http"]["request"]["url"], server->url("/items/42"));
  EXPECT_FALSE(sub["http"]["request"].contains("traced"));
  EXPECT_EQ(sub["http"]["response"]["status"], 200);
  EXPECT_EQ(sub["http"]["response"]["content_length"], 10);
  EXPECT_FALSE(sub.contains("fault"));
  EXPECT_EQ(sub_header, std::string("Root=") + kRoot + ";Parent=" + sub["id"].get<std::string>() +
                            ";Sampled=1;Lineage=a87bd80c:1;Foo=bar");
  EXPECT_THAT(daemon_.errors(), IsEmpty());
}

TEST_F(CurlClientTest, InjectsTraceparentReplacingTheCallersAndLeavesTracestate) {
  auto server = serve();
  auto segment = recorder_.begin_segment(
      "caller", xray::TraceHeader::parse(std::string("Root=") + kRoot + ";Sampled=1"));
  curl_slist* mine = curl_slist_append(nullptr, "TraceParent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  mine = curl_slist_append(mine, "tracestate: congo=t61rcWkgMzE");
  options_.headers = mine;
  options_.inject_traceparent = true;
  ASSERT_EQ(xray::curl::perform(easy_, server->url("/w3c"), options_), CURLE_OK);
  std::vector<std::string> sent;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    sent = traceparents_;
    EXPECT_EQ(tracestate_, "congo=t61rcWkgMzE");
  }
  // Without the option the caller's line goes out untouched.
  options_.inject_traceparent = false;
  ASSERT_EQ(xray::curl::perform(easy_, server->url("/plain"), options_), CURLE_OK);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    EXPECT_THAT(traceparents_,
                ::testing::ElementsAre("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
  }
  curl_slist_free_all(mine);
  segment.end();
  ASSERT_TRUE(recorder_.flush(kWait));
  ASSERT_TRUE(daemon_.wait_for_documents(1, kWait));
  const json document = daemon_.documents().at(0);
  ASSERT_EQ(document["subsegments"].size(), 2u);
  const json& sub = document["subsegments"][0]["http"]["request"]["url"] == server->url("/w3c")
                        ? document["subsegments"][0]
                        : document["subsegments"][1];
  EXPECT_THAT(sent, ::testing::ElementsAre("00-5759e988bd862e3fe1be46a994272793-" +
                                           sub["id"].get<std::string>() + "-01"));
}

TEST_F(CurlClientTest, StatusesMapToFlags) {
  struct Case {
    http::status status;
    bool error, throttle, fault;
  };
  for (Case c : {Case{http::status::ok, false, false, false},
                 Case{http::status::not_found, true, false, false},
                 Case{http::status::too_many_requests, true, true, false},
                 Case{http::status::internal_server_error, false, false, true}}) {
    SCOPED_TRACE(static_cast<int>(c.status));
    daemon_.clear();
    auto server = serve(c.status);
    auto segment = recorder_.begin_segment("caller");
    options_.traced = true;
    EXPECT_EQ(xray::curl::perform(easy_, server->url("/s"), options_), CURLE_OK);
    auto [doc, sub] = finish(segment);
    EXPECT_EQ(sub["http"]["response"]["status"], static_cast<int>(c.status));
    EXPECT_EQ(sub["http"]["request"]["traced"], true);
    EXPECT_EQ(sub.value("error", false), c.error);
    EXPECT_EQ(sub.value("throttle", false), c.throttle);
    EXPECT_EQ(sub.value("fault", false), c.fault);
  }
}

TEST_F(CurlClientTest, RefusedConnectionIsAFaultAndTheCallerGetsItsError) {
  auto segment = recorder_.begin_segment("caller");
  std::string url = "http://127.0.0.1:" + std::to_string(refused_port()) + "/x";
  EXPECT_EQ(xray::curl::perform(easy_, url, options_), CURLE_COULDNT_CONNECT);
  auto [doc, sub] = finish(segment);
  EXPECT_TRUE(sub.value("fault", false));
  EXPECT_FALSE(sub["http"].contains("response"));
  EXPECT_EQ(sub["http"]["request"]["url"], url);
  const json& exception = sub["cause"]["exceptions"][0];
  EXPECT_EQ(exception["type"], "xray::curl::TransferError");
  EXPECT_THAT(exception["message"].get<std::string>(), ::testing::HasSubstr("onnect"));
}

TEST_F(CurlClientTest, TimeoutIsAFault) {
  SilentServer silent;
  auto segment = recorder_.begin_segment("caller");
  curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, 300L);
  EXPECT_EQ(xray::curl::perform(easy_, "http://127.0.0.1:" + std::to_string(silent.port()) + "/",
                                options_),
            CURLE_OPERATION_TIMEDOUT);
  auto [doc, sub] = finish(segment);
  EXPECT_TRUE(sub.value("fault", false));
  EXPECT_FALSE(sub["http"].contains("response"));
  EXPECT_EQ(sub["cause"]["exceptions"][0]["type"], "xray::curl::TransferError");
}

TEST_F(CurlClientTest, UnsampledSendsNoSubsegmentButCarriesTheDecision) {
  auto server = serve();
  {
    auto segment = recorder_.begin_segment(
        "caller", xray::TraceHeader::parse(std::string("Root=") + kRoot + ";Sampled=0"));
    ASSERT_EQ(xray::curl::perform(easy_, server->url("/u"), options_), CURLE_OK);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ASSERT_EQ(trace_headers_.size(), 1u);
    EXPECT_THAT(trace_headers_[0], ::testing::StartsWith(std::string("Root=") + kRoot));
    EXPECT_THAT(trace_headers_[0], ::testing::HasSubstr("Sampled=0"));
  }
  EXPECT_TRUE(recorder_.flush(kWait));
  EXPECT_EQ(daemon_.datagram_count(), 0u);
}

TEST_F(CurlClientTest, NoCurrentSegmentPerformsUntraced) {
  auto server = serve();
  EXPECT_EQ(xray::curl::perform(easy_, server->url("/none"), options_), CURLE_OK);
  std::lock_guard<std::mutex> lock(mutex_);
  EXPECT_THAT(trace_headers_, IsEmpty());
}

}  // namespace
