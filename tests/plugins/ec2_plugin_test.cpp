#include "xray/plugins.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "plugins/plugin_parsers.hpp"
#include "plugins/plugin_support.hpp"
#include "support/fake_http_server.hpp"
#include "support/temp_file.hpp"

namespace xray {
namespace {

using json = nlohmann::json;
using plugins::detail::DetectionError;
using testing::FakeHttpServer;
using testing::HttpReply;
using testing::RecordedRequest;
using testing::ScopedEnv;

constexpr const char* kTokenPath = "/latest/api/token";
constexpr const char* kIdentityPath = "/latest/dynamic/instance-identity/document";
constexpr const char* kToken = "AQAEAFakeToken==";

const char* const kIdentityDocument = R"({"accountId":"123456789012","architecture":"x86_64",
  "availabilityZone":"us-west-2b","billingProducts":null,"devpayProductCodes":null,
  "marketplaceProductCodes":["1abc2defghijklm3nopqrs4tu"],"imageId":"ami-5fb8c835",
  "instanceId":"i-1234567890abcdef0","instanceType":"t2.micro","kernelId":null,
  "pendingTime":"2016-11-19T16:32:11Z","privateIp":"10.158.112.84","ramdiskId":null,
  "region":"us-west-2","version":"2017-09-30"})";

std::chrono::steady_clock::time_point deadline_in(std::chrono::milliseconds budget) {
  return std::chrono::steady_clock::now() + budget;
}

std::chrono::steady_clock::time_point generous_deadline() {
  return deadline_in(std::chrono::seconds(10));
}

// "127.0.0.1:PORT" of `server`.
std::string host_port(const FakeHttpServer& server) {
  return "127.0.0.1:" + std::to_string(server.port());
}

std::shared_ptr<const Plugin> ec2_at(const std::string& endpoint) {
  plugins::Ec2Options options;
  options.endpoint = endpoint;
  return plugins::ec2(options);
}

// An IMDS that issues a token and serves the identity document only with that token.
HttpReply imds_v2(const RecordedRequest& request) {
  if (request.method == "PUT" && request.target == kTokenPath) {
    if (request.header("X-aws-ec2-metadata-token-ttl-seconds") != "60") return HttpReply(400);
    return HttpReply(200, {}, kToken);
  }
  if (request.method == "GET" && request.target == kIdentityPath) {
    if (request.header("X-aws-ec2-metadata-token") != kToken) return HttpReply(401);
    return HttpReply(200, {{"Content-Type", "text/plain"}}, kIdentityDocument);
  }
  return HttpReply(404);
}

// An IMDS that refuses tokens with `token_status` and serves the document to anyone.
FakeHttpServer::Handler imds_v1(int token_status) {
  return [token_status](const RecordedRequest& request) {
    if (request.target == kTokenPath) return HttpReply(token_status);
    if (request.method == "GET" && request.target == kIdentityPath) {
      return HttpReply(200, {}, kIdentityDocument);
    }
    return HttpReply(404);
  };
}

// An IMDS that issues tokens and answers the identity document with `status` and `body`.
FakeHttpServer::Handler identity_reply(int status, std::string body) {
  return [status, body](const RecordedRequest& request) {
    if (request.target == kTokenPath) return HttpReply(200, {}, kToken);
    return HttpReply(status, {}, body);
  };
}

void expect_identity(const std::optional<PluginMetadata>& found) {
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->origin, "AWS::EC2::Instance");
  EXPECT_EQ(found->aws, json::parse(R"({"ec2":{"instance_id":"i-1234567890abcdef0",
      "instance_size":"t2.micro","ami_id":"ami-5fb8c835","availability_zone":"us-west-2b"}})"));
}

TEST(Ec2PluginTest, NameIsEc2Plugin) { EXPECT_EQ(plugins::ec2()->name(), "EC2Plugin"); }

TEST(Ec2PluginTest, ImdsV2FetchesATokenThenTheIdentityDocumentWithIt) {
  FakeHttpServer server(imds_v2);
  expect_identity(ec2_at(host_port(server))->detect(generous_deadline()));

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, kTokenPath);
  EXPECT_EQ(requests[0].header("X-aws-ec2-metadata-token-ttl-seconds"), "60");
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].target, kIdentityPath);
  EXPECT_EQ(requests[1].header("X-aws-ec2-metadata-token"), kToken);
}

TEST(Ec2PluginTest, AcceptsTheEndpointWithAnHttpScheme) {
  FakeHttpServer server(imds_v2);
  expect_identity(ec2_at(server.base_url())->detect(generous_deadline()));
  expect_identity(ec2_at(server.base_url() + "/")->detect(generous_deadline()));
}

TEST(Ec2PluginTest, TakesTheEndpointFromImdsEndpoint) {
  FakeHttpServer server(imds_v2);
  ScopedEnv disabled("AWS_EC2_METADATA_DISABLED", nullptr);
  ScopedEnv endpoint("IMDS_ENDPOINT", host_port(server).c_str());
  expect_identity(plugins::ec2()->detect(generous_deadline()));
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(Ec2PluginTest, TheOptionWinsOverImdsEndpoint) {
  FakeHttpServer server(imds_v2);
  ScopedEnv disabled("AWS_EC2_METADATA_DISABLED", nullptr);
  ScopedEnv endpoint("IMDS_ENDPOINT", "127.0.0.1:1");
  expect_identity(ec2_at(host_port(server))->detect(generous_deadline()));
}

TEST(Ec2PluginTest, AwsEc2MetadataDisabledSkipsDetectionWithoutARequest) {
  FakeHttpServer server(imds_v2);
  ScopedEnv disabled("AWS_EC2_METADATA_DISABLED", "true");
  EXPECT_FALSE(ec2_at(host_port(server))->detect(generous_deadline()).has_value());
  EXPECT_TRUE(server.requests().empty());
}

TEST(Ec2PluginTest, AwsEc2MetadataDisabledFalseStillDetects) {
  FakeHttpServer server(imds_v2);
  ScopedEnv disabled("AWS_EC2_METADATA_DISABLED", "false");
  expect_identity(ec2_at(host_port(server))->detect(generous_deadline()));
}

class Ec2TokenRefusedTest : public ::testing::TestWithParam<int> {};

TEST_P(Ec2TokenRefusedTest, FallsBackToImdsV1WithoutTheTokenHeader) {
  FakeHttpServer server(imds_v1(GetParam()));
  expect_identity(ec2_at(host_port(server))->detect(generous_deadline()));

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, kTokenPath);
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].target, kIdentityPath);
  EXPECT_EQ(requests[1].header("X-aws-ec2-metadata-token"), "");
}

INSTANTIATE_TEST_SUITE_P(Statuses, Ec2TokenRefusedTest, ::testing::Values(403, 404, 405, 500));

TEST(Ec2PluginTest, AnEmptyTokenFallsBackToImdsV1) {
  FakeHttpServer server([](const RecordedRequest& request) {
    if (request.target == kTokenPath) return HttpReply(200, {}, "");
    if (!request.header("X-aws-ec2-metadata-token").empty()) return HttpReply(401);
    return HttpReply(200, {}, kIdentityDocument);
  });
  expect_identity(ec2_at(host_port(server))->detect(generous_deadline()));
}

TEST(Ec2PluginTest, TokenConnectionClosedWithoutAnswerFallsBackToImdsV1) {
  FakeHttpServer server([](const RecordedRequest& request) {
    if (request.target == kTokenPath) return HttpReply::close_at_once();
    return HttpReply(200, {}, kIdentityDocument);
  });
  expect_identity(ec2_at(host_port(server))->detect(generous_deadline()));
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].header("X-aws-ec2-metadata-token"), "");
}

class Ec2IdentityFailureTest
    : public ::testing::TestWithParam<std::pair<int, std::string>> {};

// The plugin reports every failure by throwing (the recorder logs it and ignores the plugin).
TEST_P(Ec2IdentityFailureTest, Throws) {
  FakeHttpServer server(identity_reply(GetParam().first, GetParam().second));
  auto plugin = ec2_at(host_port(server));
  EXPECT_THROW(plugin->detect(generous_deadline()), DetectionError);
}

INSTANTIATE_TEST_SUITE_P(
    Answers, Ec2IdentityFailureTest,
    ::testing::Values(std::pair<int, std::string>(404, "not found"),
                      std::pair<int, std::string>(500, kIdentityDocument),
                      std::pair<int, std::string>(200, "{\"instanceId\":"),  // invalid JSON
                      std::pair<int, std::string>(200, "not json at all"),
                      std::pair<int, std::string>(200, "[\"i-1234567890abcdef0\"]"),
                      std::pair<int, std::string>(200, R"({"imageId":"ami-5fb8c835"})"),
                      std::pair<int, std::string>(200, R"({"instanceId":""})"),
                      std::pair<int, std::string>(200, R"({"instanceId":42})")));

TEST(Ec2PluginTest, OnlyThePresentFieldsAreReported) {
  FakeHttpServer server(identity_reply(200, R"({"instanceId":"i-0abc","instanceType":7})"));
  auto found = ec2_at(host_port(server))->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws, json::parse(R"({"ec2":{"instance_id":"i-0abc"}})"));
}

TEST(Ec2PluginTest, AServerThatNeverAnswersFailsByTheDeadline) {
  FakeHttpServer server([](const RecordedRequest&) { return HttpReply::hang_up(); });
  auto plugin = ec2_at(host_port(server));
  EXPECT_THROW(plugin->detect(deadline_in(std::chrono::milliseconds(300))), DetectionError);
}

TEST(Ec2PluginTest, AnIdentityRequestThatNeverAnswersFailsByTheDeadline) {
  FakeHttpServer server([](const RecordedRequest& request) {
    if (request.target == kTokenPath) return HttpReply(200, {}, kToken);
    return HttpReply::hang_up();
  });
  auto plugin = ec2_at(host_port(server));
  EXPECT_THROW(plugin->detect(deadline_in(std::chrono::milliseconds(300))), DetectionError);
}

// A bound socket that does not listen: connecting to its port is refused.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~RefusingPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  std::uint16_t port() const noexcept { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// Regression (found by fuzz/ec2_metadata_fuzz.cpp): the token is sent back as a header value, and
// Beast does not check header values, so a token with CR LF used to inject headers into the
// identity request. Such a token is refused and IMDSv1 is used instead.
TEST(Ec2PluginTest, ATokenThatCouldSplitTheRequestIsNotSent) {
  FakeHttpServer server([](const RecordedRequest& request) {
    if (request.target == kTokenPath) return HttpReply(200, {}, "abc\r\nX-Injected: 1");
    return HttpReply(200, {}, kIdentityDocument);
  });
  expect_identity(ec2_at(host_port(server))->detect(generous_deadline()));
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].header("X-aws-ec2-metadata-token"), "");
  EXPECT_EQ(requests[1].header("X-Injected"), "");
}

TEST(Ec2PluginTest, OnlyAVisibleAsciiTokenFromA200IsUsed) {
  EXPECT_EQ(plugins::detail::imds_token(200, kToken), kToken);
  EXPECT_FALSE(plugins::detail::imds_token(200, "").has_value());
  EXPECT_FALSE(plugins::detail::imds_token(403, kToken).has_value());
  for (std::string_view bad : {std::string_view("a b"), std::string_view("a\tb"),
                               std::string_view("ab\n"), std::string_view("a\0b", 3),
                               std::string_view("t\xc3\xa9")}) {
    EXPECT_FALSE(plugins::detail::imds_token(200, bad).has_value()) << bad;
  }
}

TEST(Ec2PluginTest, TheIdentityDocumentParsesWithoutAServer) {
  auto identity = plugins::detail::parse_json_object(kIdentityDocument);
  ASSERT_TRUE(identity.has_value());
  expect_identity(plugins::detail::ec2_metadata(*identity));
  EXPECT_THROW(plugins::detail::ec2_metadata(json::parse(R"({"instanceId":7})")), DetectionError);
  EXPECT_FALSE(plugins::detail::parse_json_object("[1]").has_value());
  EXPECT_FALSE(plugins::detail::parse_json_object("{").has_value());
  EXPECT_FALSE(plugins::detail::parse_json_object(R"({"a":1e400})").has_value());
}

TEST(Ec2PluginTest, NothingListeningFailsWithoutTryingImdsV1) {
  RefusingPort refusing;
  ASSERT_NE(refusing.port(), 0);
  auto plugin = ec2_at("127.0.0.1:" + std::to_string(refusing.port()));
  EXPECT_THROW(plugin->detect(generous_deadline()), DetectionError);
}

}  // namespace
}  // namespace xray
