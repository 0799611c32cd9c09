// Tests for the Beast client helper (xray/beast.hpp, ClientCall): a real Beast client against a
// server on 127.0.0.1; the documents the fake daemon receives are checked field by field.
#include "xray/beast.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/beast/core/string.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "integrations/http_fixture.hpp"
#include "support/fake_daemon.hpp"
#include "support/test_recorder.hpp"

namespace {

using nlohmann::json;
using ::testing::IsEmpty;
using namespace xray::testing;
namespace beast = xray::beast;

constexpr char kRoot[] = "1-5759e988-bd862e3fe1be46a994272793";
constexpr auto kWait = std::chrono::seconds(5);

class BeastClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(configure(recorder_, config_for(daemon_, "caller"), {{"AWS_XRAY_NOOP_ID", "false"}}).ok());
    options_.recorder = &recorder_;
  }

  std::unique_ptr<TestServer> serve(http::status status) {
    return std::make_unique<TestServer>([this, status](const Request& request, const std::string&) {
      std::lock_guard<std::mutex> lock(mutex_);
      trace_headers_.clear();
      traceparents_.clear();
      tracestate_ = std::string(request["tracestate"]);
      for (const auto& field : request) {
        if (boost::beast::iequals(field.name_string(), "X-Amzn-Trace-Id")) {
          trace_headers_.emplace_back(field.value());
        }
        if (boost::beast::iequals(field.name_string(), "traceparent")) {
          traceparents_.emplace_back(field.value());
        }
      }
      return make_response(request, status, "abc");
    });
  }

  // One request with the Beast client, traced by ClientCall; returns the error, if any.
  boost::system::error_code call(unsigned short port, Request request, Response* response) {
    boost::asio::io_context io;
    tcp::socket socket(io);
    beast::ClientCall traced(request, options_);
    boost::system::error_code ec;
    socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) http::write(socket, request, ec);
    boost::beast::flat_buffer buffer;
    if (!ec) http::read(socket, buffer, *response, ec);
    if (ec) {
      traced.record_error(ec);
    } else {
      traced.record_response(*response);
    }
    return ec;
  }

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
  beast::ClientOptions options_;
  std::mutex mutex_;
  std::vector<std::string> trace_headers_;  // guarded by mutex_
  std::vector<std::string> traceparents_;   // guarded by mutex_
  std::string tracestate_;                  // guarded by mutex_
};

TEST_F(BeastClientTest, RecordsSubsegmentAndReplacesTheHeader) {
  auto server = serve(http::status::ok);
  auto segment = recorder_.begin_segment(
      "caller", xray::TraceHeader::parse(std::string("Root=") + kRoot + ";Sampled=1;Lineage=a87bd80c:1"));
  Request request{http::verb::put, "/things/7?q=1", 11};
  request.set(http::field::host, "127.0.0.1:" + std::to_string(server->port()));
  request.insert("X-Amzn-Trace-Id", "Root=stale");
  request.insert("X-Amzn-Trace-Id", "Root=stale2");
  request.body() = "payload";
  request.prepare_payload();
  options_.traced = true;
  Response response;
  ASSERT_FALSE(call(server->port(), request, &response));
  EXPECT_EQ(response.result_int(), 200u);

  auto [doc, sub] = finish(segment);
  EXPECT_EQ(sub["name"], "127.0.0.1");
  EXPECT_EQ(sub["namespace"], "remote");
  EXPECT_EQ(sub["http"]["request"]["method"], "PUT");
  EXPECT_EQ(sub["http"]["request"]["url"], server->url("/things/7"));
  EXPECT_EQ(sub["http"]["request"]["traced"], true);
  EXPECT_EQ(sub["http"]["response"]["status"], 200);
  EXPECT_EQ(sub["http"]["response"]["content_length"], 3);
  std::lock_guard<std::mutex> lock(mutex_);
  ASSERT_EQ(trace_headers_.size(), 1u);
  EXPECT_EQ(trace_headers_[0], std::string("Root=") + kRoot + ";Parent=" + sub["id"].get<std::string>() +
                                   ";Sampled=1;Lineage=a87bd80c:1");
  EXPECT_THAT(daemon_.errors(), IsEmpty());
}

TEST_F(BeastClientTest, InjectsTraceparentReplacingTheCallersAndLeavesTracestate) {
  auto server = serve(http::status::ok);
  auto segment = recorder_.begin_segment(
      "caller", xray::TraceHeader::parse(std::string("Root=") + kRoot + ";Sampled=0"));
  Request request{http::verb::get, "/w3c", 11};
  request.set(http::field::host, "127.0.0.1:" + std::to_string(server->port()));
  request.insert("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  request.insert("tracestate", "congo=t61rcWkgMzE");
  options_.inject_traceparent = true;
  Response response;
  ASSERT_FALSE(call(server->port(), request, &response));
  std::lock_guard<std::mutex> lock(mutex_);
  // Unsampled (with real ids: AWS_XRAY_NOOP_ID=false here): the decision travels in the flags.
  ASSERT_EQ(trace_headers_.size(), 1u);
  const std::string parent = xray::TraceHeader::parse(trace_headers_[0]).parent();
  ASSERT_EQ(parent.size(), 16u);
  EXPECT_THAT(traceparents_,
              ::testing::ElementsAre("00-5759e988bd862e3fe1be46a994272793-" + parent + "-00"));
  EXPECT_EQ(tracestate_, "congo=t61rcWkgMzE");
}

TEST_F(BeastClientTest, ServerErrorIsAFault) {
  auto server = serve(http::status::service_unavailable);
  auto segment = recorder_.begin_segment("caller");
  Request request{http::verb::get, "/", 11};
  request.set(http::field::host, "127.0.0.1");
  Response response;
  ASSERT_FALSE(call(server->port(), request, &response));
  auto [doc, sub] = finish(segment);
  EXPECT_EQ(sub["http"]["response"]["status"], 503);
  EXPECT_TRUE(sub.value("fault", false));
  EXPECT_FALSE(sub.value("error", false));
}

TEST_F(BeastClientTest, RefusedConnectionIsAFaultWithCause) {
  auto segment = recorder_.begin_segment("caller");
  Request request{http::verb::get, "/x", 11};
  options_.host = "backend.internal:9000";  // no Host header: the name comes from options
  Response response;
  boost::system::error_code ec = call(refused_port(), request, &response);
  EXPECT_EQ(ec, boost::asio::error::connection_refused);
  auto [doc, sub] = finish(segment);
  EXPECT_EQ(sub["name"], "backend.internal");
  EXPECT_EQ(sub["http"]["request"]["url"], "http://backend.internal:9000/x");
  EXPECT_TRUE(sub.value("fault", false));
  EXPECT_FALSE(sub["http"].contains("response"));
  EXPECT_EQ(sub["cause"]["exceptions"][0]["type"], "boost::system::system_error");
}

// A call begun on one thread (with an explicit parent) and completed on another.
TEST_F(BeastClientTest, CallCompletesOnAnotherThread) {
  auto server = serve(http::status::ok);
  auto segment = recorder_.begin_segment("caller");
  Request request{http::verb::get, "/t", 11};
  request.set(http::field::host, "127.0.0.1");
  options_.parent = segment.context();
  auto traced = std::make_unique<beast::ClientCall>(request, options_);
  EXPECT_EQ(xray::current_context().entity_id(), segment.id());  // the call is not left current
  std::thread([&traced] {
    Response response{http::status::accepted, 11};
    traced->record_response(response);
    traced->end();
  }).join();
  auto [doc, sub] = finish(segment);
  EXPECT_EQ(sub["http"]["response"]["status"], 202);
}

}  // namespace
