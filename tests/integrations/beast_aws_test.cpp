// AWS calls through the Beast client (xray/beast.hpp ClientCall + xray/aws.hpp): a DynamoDB
// request recognised by its SigV4 Authorization and X-Amz-Target headers, sent to dynalite.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <chrono>
#include <string>

#include "integrations/http_fixture.hpp"
#include "support/dynalite.hpp"
#include "support/fake_daemon.hpp"
#include "support/fake_http_server.hpp"
#include "support/test_recorder.hpp"
#include "xray/beast.hpp"

namespace {

using nlohmann::json;
using namespace xray::testing;
constexpr auto kWait = std::chrono::seconds(5);

class BeastAwsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(configure(recorder_, config_for(daemon_, "beast-client")).ok());
    options_.recorder = &recorder_;
  }

  // A DynamoDB request as an AWS SDK would build it. dynalite checks the Authorization header's
  // form, not its signature (the libcurl test covers signing).
  Request dynamodb_request(int port, const std::string& operation, const std::string& body) {
    Request request(http::verb::post, "/", 11);
    request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    request.set(http::field::content_type, "application/x-amz-json-1.0");
    request.set("X-Amz-Target", "DynamoDB_20120810." + operation);
    request.set("X-Amz-Date", "20240101T000000Z");
    request.set(
        http::field::authorization,
        "AWS4-HMAC-SHA256 Credential=AKIDXRAYTEST/20240101/eu-central-1/dynamodb/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" +
            std::string(64, '0'));
    request.body() = body;
    request.prepare_payload();
    return request;
  }

  Response call(int port, Request request) {
    options_.body = request.body();
    xray::beast::ClientCall traced(request, options_);
    boost::asio::io_context io;
    tcp::socket socket(io);
    boost::system::error_code ec;
    socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                 static_cast<unsigned short>(port)),
                   ec);
    if (!ec) http::write(socket, request, ec);
    boost::beast::flat_buffer buffer;
    Response response;
    if (!ec) http::read(socket, buffer, response, ec);
    if (ec) {
      traced.record_error(ec);
    } else {
      traced.record_response(response);
    }
    return response;
  }

  FakeDaemon daemon_;
  xray::Recorder recorder_;
  xray::beast::ClientOptions options_;
};

TEST_F(BeastAwsTest, MissingTableAgainstDynalite) {
  XRAY_REQUIRE_DYNALITE();
  Dynalite dynamodb;
  ASSERT_NE(dynamodb.port(), 0) << "dynalite did not start";
  {
    auto segment = recorder_.begin_segment("beast-client");
    Response response =
        call(dynamodb.port(),
             dynamodb_request(dynamodb.port(), "GetItem",
                              R"({"TableName":"no_such_table","Key":{"id":{"S":"1"}}})"));
    EXPECT_EQ(response.result_int(), 400u);
  }
  ASSERT_TRUE(recorder_.flush(kWait));
  ASSERT_TRUE(daemon_.wait_for_documents(1, kWait));
  json sub = daemon_.documents()[0]["subsegments"][0];
  SCOPED_TRACE(sub.dump());
  EXPECT_EQ(sub["name"], "DynamoDB");
  EXPECT_EQ(sub["namespace"], "aws");
  EXPECT_EQ(sub["aws"]["operation"], "GetItem");
  EXPECT_EQ(sub["aws"]["region"], "eu-central-1");
  EXPECT_EQ(sub["aws"]["table_name"], "no_such_table");
  EXPECT_EQ(sub["aws"]["request_id"].get<std::string>().size(), 52u);
  EXPECT_EQ(sub["error"], true);
  EXPECT_FALSE(sub.contains("fault"));
  EXPECT_EQ(sub["cause"]["exceptions"][0]["type"], "ResourceNotFoundException");
  EXPECT_EQ(sub["cause"]["exceptions"][0]["remote"], true);
  auto seen = dynamodb.wait_for_request("DynamoDB_20120810.GetItem");
  ASSERT_TRUE(seen);
  EXPECT_THAT(seen->trace, ::testing::HasSubstr("Parent=" + sub["id"].get<std::string>()));
}

TEST_F(BeastAwsTest, QueryParametersReachTheMapping) {
  FakeHttpServer server([](const RecordedRequest&) { return HttpReply(200, {}, "{}"); });
  {
    auto segment = recorder_.begin_segment("beast-client");
    Request request(http::verb::post, "/2015-03-31/functions/my-fn/invocations?Qualifier=live", 11);
    request.set(http::field::host, "lambda.us-east-1.amazonaws.com");
    request.body() = "{}";
    request.prepare_payload();
    call(server.port(), std::move(request));
  }
  ASSERT_TRUE(recorder_.flush(kWait));
  ASSERT_TRUE(daemon_.wait_for_documents(1, kWait));
  json sub = daemon_.documents()[0]["subsegments"][0];
  EXPECT_EQ(sub["name"], "Lambda");
  EXPECT_EQ(sub["aws"]["operation"], "Invoke");
  EXPECT_EQ(sub["aws"]["function_name"], "my-fn");
  EXPECT_EQ(sub["aws"]["qualifier"], "live");
}

TEST_F(BeastAwsTest, RefusedConnectionIsAFault) {
  int port = 0;
  {
    FakeDaemon closed;  // a port nobody listens on over TCP once this scope's socket is gone
    port = closed.port();
  }
  {
    auto segment = recorder_.begin_segment("beast-client");
    call(port, dynamodb_request(port, "PutItem", R"({"TableName":"users","Item":{}})"));
  }
  ASSERT_TRUE(recorder_.flush(kWait));
  ASSERT_TRUE(daemon_.wait_for_documents(1, kWait));
  json sub = daemon_.documents()[0]["subsegments"][0];
  EXPECT_EQ(sub["name"], "DynamoDB");
  EXPECT_EQ(sub["fault"], true);
  EXPECT_EQ(sub["aws"]["table_name"], "users");
  EXPECT_EQ(sub["aws"]["retries"], 0);
  EXPECT_EQ(sub["cause"]["exceptions"].size(), 1u);
}

}  // namespace
