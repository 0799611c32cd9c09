#include "xray/plugins.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "plugins/plugin_parsers.hpp"
#include "support/fake_http_server.hpp"
#include "support/temp_file.hpp"

namespace xray {
namespace {

using json = nlohmann::json;
using testing::FakeHttpServer;
using testing::HttpReply;
using testing::missing_path;
using testing::RecordedRequest;
using testing::ScopedEnv;
using testing::TempFile;

constexpr const char* kContainerId =
    "3ef0a4d7c5d48f81a2a1ecfa2aeb0f6a9d2c3f1e5b7d4c6a8e9f0a1b2c3d4e5f";
constexpr const char* kClusterInfoPath =
    "/api/v1/namespaces/amazon-cloudwatch/configmaps/cluster-info";
constexpr const char* kToken = "eyJhbGciOiJSUzI1NiJ9.fake";

std::chrono::steady_clock::time_point generous_deadline() {
  return std::chrono::steady_clock::now() + std::chrono::seconds(10);
}

// A Kubernetes API server that serves the cluster-info config map to the bearer of kToken.
HttpReply api_server(const RecordedRequest& request) {
  if (request.method != "GET" || request.target != kClusterInfoPath) return HttpReply(404);
  if (request.header("Authorization") != std::string("Bearer ") + kToken) return HttpReply(401);
  return HttpReply(200, {{"Content-Type", "application/json"}},
                   R"({"kind":"ConfigMap","data":{"cluster.name":"prod","logs.region":"us-west-2"}})");
}

// The process environment is read by the plugin: keep it from leaking into these tests.
class EksPluginTest : public ::testing::Test {
 protected:
  EksPluginTest()
      : token_(std::string(kToken) + "\n"),
        cgroup_(std::string("12:pids:/kubepods/besteffort/pod1234/") + kContainerId + "\n") {}

  plugins::EksOptions options() const {
    plugins::EksOptions options;
    options.token_path = token_.path();
    options.ca_path = missing_path();
    options.cgroup_path = cgroup_.path();
    options.mountinfo_path = missing_path();
    options.hostname = "orders-7d9f8b6c5-x2x4z";
    return options;
  }

  ScopedEnv cluster_env_{"AWS_XRAY_EKS_CLUSTER_NAME", nullptr};
  ScopedEnv host_env_{"KUBERNETES_SERVICE_HOST", nullptr};
  ScopedEnv port_env_{"KUBERNETES_SERVICE_PORT", nullptr};
  TempFile token_;
  TempFile cgroup_;
};

TEST_F(EksPluginTest, NameIsEksPlugin) { EXPECT_EQ(plugins::eks()->name(), "EKSPlugin"); }

TEST_F(EksPluginTest, WithoutTheTokenFileItIsNotEks) {
  auto options = this->options();
  options.token_path = missing_path();
  options.cluster_name = "prod";
  EXPECT_FALSE(plugins::eks(options)->detect(generous_deadline()).has_value());
}

TEST_F(EksPluginTest, TheTokenFileAndAClusterNameGiveEveryField) {
  auto options = this->options();
  options.cluster_name = "prod";
  auto found = plugins::eks(options)->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->origin, "AWS::EKS::Container");
  EXPECT_EQ(found->aws, json::parse(R"({
      "eks":{"pod":"orders-7d9f8b6c5-x2x4z",
             "container_id":"3ef0a4d7c5d48f81a2a1ecfa2aeb0f6a9d2c3f1e5b7d4c6a8e9f0a1b2c3d4e5f",
             "cluster_name":"prod"},
      "cloudwatch_logs":[{"log_group":"/aws/containerinsights/prod/application"}]})"));
}

TEST_F(EksPluginTest, TheContainerIdComesFromCgroupV2) {
  TempFile cgroup("0::/\n");
  TempFile mountinfo(std::string("2001 1990 259:1 /var/lib/containerd/containers/") +
                     kContainerId + "/hostname /etc/hostname rw - ext4 /dev/root rw\n");
  auto options = this->options();
  options.cluster_name = "prod";
  options.cgroup_path = cgroup.path();
  options.mountinfo_path = mountinfo.path();
  auto found = plugins::eks(options)->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws["eks"]["container_id"], kContainerId);
}

TEST_F(EksPluginTest, NoClusterNameSourceLeavesItOut) {
  auto options = this->options();
  options.cgroup_path = missing_path();
  auto found = plugins::eks(options)->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->origin, "AWS::EKS::Container");
  EXPECT_EQ(found->aws, json::parse(R"({"eks":{"pod":"orders-7d9f8b6c5-x2x4z"}})"));
}

TEST_F(EksPluginTest, TheClusterNameComesFromTheEnvironmentWithoutAskingTheApiServer) {
  FakeHttpServer server(api_server);
  ScopedEnv cluster("AWS_XRAY_EKS_CLUSTER_NAME", "staging");
  auto options = this->options();
  options.api_server_url = server.base_url();
  auto found = plugins::eks(options)->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws["eks"]["cluster_name"], "staging");
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(EksPluginTest, TheClusterNameComesFromTheConfigMapWithTheBearerToken) {
  FakeHttpServer server(api_server);
  auto options = this->options();
  options.api_server_url = server.base_url();
  auto found = plugins::eks(options)->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws["eks"]["cluster_name"], "prod");
  EXPECT_EQ(found->aws["cloudwatch_logs"],
            json::parse(R"([{"log_group":"/aws/containerinsights/prod/application"}])"));

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, kClusterInfoPath);
  EXPECT_EQ(requests[0].header("Authorization"), std::string("Bearer ") + kToken);
}

// Regression (found by fuzz/eks_metadata_fuzz.cpp): the token file's content is sent as
// `Authorization: Bearer <token>`; one with CR LF inside used to inject headers. The config map is
// then not asked for at all.
TEST_F(EksPluginTest, ATokenFileThatCouldSplitTheRequestIsNotSent) {
  FakeHttpServer server(api_server);
  TempFile token(std::string(kToken) + "\r\nX-Injected: 1\n");
  auto options = this->options();
  options.token_path = token.path();
  options.api_server_url = server.base_url();
  auto found = plugins::eks(options)->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->aws["eks"].contains("cluster_name"));
  EXPECT_TRUE(server.requests().empty());
}

TEST(EksParsersTest, BearerTokenDropsTrailingLineEndsAndRefusesOtherControls) {
  EXPECT_EQ(plugins::detail::bearer_token("tok.en\r\n"), "tok.en");
  EXPECT_EQ(plugins::detail::bearer_token("tok.en"), "tok.en");
  EXPECT_FALSE(plugins::detail::bearer_token("\n").has_value());
  EXPECT_FALSE(plugins::detail::bearer_token("to ken").has_value());
  EXPECT_FALSE(plugins::detail::bearer_token("to\nken").has_value());
}

TEST(EksParsersTest, ClusterNameFromTheConfigMap) {
  EXPECT_EQ(plugins::detail::eks_cluster_name(json::parse(R"({"data":{"cluster.name":"prod"}})")),
            "prod");
  EXPECT_EQ(plugins::detail::eks_cluster_name(json::parse(R"({"data":{"cluster.name":1}})")), "");
  EXPECT_EQ(plugins::detail::eks_cluster_name(json::parse(R"({"data":[]})")), "");
  EXPECT_EQ(plugins::detail::eks_cluster_name(json::parse(R"({})")), "");
}

class EksConfigMapFailureTest : public EksPluginTest,
                                public ::testing::WithParamInterface<std::pair<int, std::string>> {};

TEST_P(EksConfigMapFailureTest, LeavesTheClusterNameOutButSucceeds) {
  FakeHttpServer server([reply = GetParam()](const RecordedRequest&) {
    return HttpReply(reply.first, {}, reply.second);
  });
  auto options = this->options();
  options.api_server_url = server.base_url();
  auto found = plugins::eks(options)->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->origin, "AWS::EKS::Container");
  EXPECT_EQ(found->aws, json::parse(R"({"eks":{"pod":"orders-7d9f8b6c5-x2x4z",
      "container_id":"3ef0a4d7c5d48f81a2a1ecfa2aeb0f6a9d2c3f1e5b7d4c6a8e9f0a1b2c3d4e5f"}})"));
  EXPECT_EQ(server.requests().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Answers, EksConfigMapFailureTest,
    ::testing::Values(
        std::pair<int, std::string>(403, R"({"kind":"Status","reason":"Forbidden"})"),
        std::pair<int, std::string>(404, ""),
        std::pair<int, std::string>(500, R"({"data":{"cluster.name":"prod"}})"),
        std::pair<int, std::string>(200, "{\"data\":"),
        std::pair<int, std::string>(200, R"({"data":{"other":"x"}})"),
        std::pair<int, std::string>(200, R"({"data":"cluster.name=prod"})")));

TEST_F(EksPluginTest, HttpsWithAMissingCaFileLeavesTheClusterNameOut) {
  FakeHttpServer server(api_server);
  auto options = this->options();
  options.api_server_url = "https://127.0.0.1:" + std::to_string(server.port());
  options.ca_path = missing_path();
  auto found = plugins::eks(options)->detect(std::chrono::steady_clock::now() +
                                             std::chrono::milliseconds(500));
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->aws["eks"].contains("cluster_name"));
  EXPECT_FALSE(found->aws.contains("cloudwatch_logs"));
  EXPECT_EQ(found->aws["eks"]["pod"], "orders-7d9f8b6c5-x2x4z");
}

TEST_F(EksPluginTest, AnApiServerThatNeverAnswersLeavesTheClusterNameOutByTheDeadline) {
  FakeHttpServer server([](const RecordedRequest&) { return HttpReply::hang_up(); });
  auto options = this->options();
  options.api_server_url = server.base_url();
  auto found = plugins::eks(options)->detect(std::chrono::steady_clock::now() +
                                             std::chrono::milliseconds(300));
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->aws["eks"].contains("cluster_name"));
}

TEST_F(EksPluginTest, TheApiServerAddressComesFromKubernetesServiceHostOverHttps) {
  // The default URL is https, verified against the CA: with no CA file the config map is skipped,
  // and the plugin still succeeds.
  FakeHttpServer server(api_server);
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "127.0.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", std::to_string(server.port()).c_str());
  auto found = plugins::eks(options())->detect(std::chrono::steady_clock::now() +
                                               std::chrono::milliseconds(500));
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->aws["eks"].contains("cluster_name"));
}

}  // namespace
}  // namespace xray
