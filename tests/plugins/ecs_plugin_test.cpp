#include "xray/plugins.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "plugins/plugin_support.hpp"
#include "support/fake_http_server.hpp"
#include "support/temp_file.hpp"

namespace xray {
namespace {

using json = nlohmann::json;
using plugins::detail::DetectionError;
using testing::FakeHttpServer;
using testing::HttpReply;
using testing::missing_path;
using testing::RecordedRequest;
using testing::ScopedEnv;
using testing::TempFile;

constexpr const char* kDockerId =
    "ea32192c8553fbff06c9340478a2ff089b2bb5646fb718b4ee206641c9086d66";
constexpr const char* kCgroupId =
    "3ef0a4d7c5d48f81a2a1ecfa2aeb0f6a9d2c3f1e5b7d4c6a8e9f0a1b2c3d4e5f";

const char* const kContainerDocument = R"({
  "DockerId":"ea32192c8553fbff06c9340478a2ff089b2bb5646fb718b4ee206641c9086d66","Name":"curl",
  "LogDriver":"awslogs",
  "LogOptions":{"awslogs-group":"/ecs/metadata","awslogs-region":"us-west-2",
                "awslogs-stream":"ecs/curl/8f03e41243824aea923aca126495f665"},
  "ContainerARN":"arn:aws:ecs:us-west-2:111122223333:container/0206b271-b33f-47ab-86c6-a0ba208a70a9"})";

const char* const kTaskDocument = R"({
  "Cluster":"arn:aws:ecs:us-west-2:111122223333:cluster/default","Family":"curltest",
  "Revision":"24","LaunchType":"EC2",
  "TaskARN":"arn:aws:ecs:us-west-2:111122223333:task/default/8f03e41243824aea923aca126495f665",
  "AvailabilityZone":"us-west-2d"})";

constexpr const char* kPrefix = "/v4/8f03e412-2421";

std::chrono::steady_clock::time_point generous_deadline() {
  return std::chrono::steady_clock::now() + std::chrono::seconds(10);
}

// A task metadata endpoint at `<base>/v4/...` answering the container and task documents.
FakeHttpServer::Handler tmde(std::string container, std::string task, int task_status = 200) {
  return [container, task, task_status](const RecordedRequest& request) {
    if (request.method != "GET") return HttpReply(405);
    if (request.target == kPrefix) return HttpReply(200, {}, container);
    if (request.target == std::string(kPrefix) + "/task") return HttpReply(task_status, {}, task);
    return HttpReply(404);
  };
}

// Options that never read the real cgroup files or host name.
plugins::EcsOptions options_for(const FakeHttpServer& server) {
  plugins::EcsOptions options;
  options.metadata_uri = server.base_url() + kPrefix;
  options.cgroup_path = missing_path();
  options.mountinfo_path = missing_path();
  options.hostname = "curl-host";
  return options;
}

json without(json document, const char* key) {
  document.erase(key);
  return document;
}

const json& expected_logs() {
  static const json logs = json::parse(R"([{"log_group":"/ecs/metadata",
      "arn":"arn:aws:logs:us-west-2:111122223333:log-group:/ecs/metadata"}])");
  return logs;
}

TEST(EcsPluginTest, NameIsEcsPlugin) { EXPECT_EQ(plugins::ecs()->name(), "ECSPlugin"); }

TEST(EcsPluginTest, V4ContainerAndTaskDocumentsGiveEveryField) {
  FakeHttpServer server(tmde(kContainerDocument, kTaskDocument));
  auto found = plugins::ecs(options_for(server))->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->origin, "AWS::ECS::Container");
  EXPECT_EQ(found->aws["ecs"], json::parse(R"({
      "container":"curl-host",
      "container_id":"ea32192c8553fbff06c9340478a2ff089b2bb5646fb718b4ee206641c9086d66",
      "container_arn":"arn:aws:ecs:us-west-2:111122223333:container/0206b271-b33f-47ab-86c6-a0ba208a70a9",
      "task_arn":"arn:aws:ecs:us-west-2:111122223333:task/default/8f03e41243824aea923aca126495f665",
      "task_family":"curltest",
      "cluster_arn":"arn:aws:ecs:us-west-2:111122223333:cluster/default",
      "launch_type":"EC2",
      "availability_zone":"us-west-2d"})"));
  EXPECT_EQ(found->aws["cloudwatch_logs"], expected_logs());
  EXPECT_EQ(found->aws.size(), 2u);

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target, kPrefix);
  EXPECT_EQ(requests[1].target, std::string(kPrefix) + "/task");
}

TEST(EcsPluginTest, ATrailingSlashOnTheUriIsIgnored) {
  FakeHttpServer server(tmde(kContainerDocument, kTaskDocument));
  auto options = options_for(server);
  options.metadata_uri += "/";
  auto found = plugins::ecs(options)->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws["ecs"]["task_family"], "curltest");
}

TEST(EcsPluginTest, AClusterNameThatIsNotAnArnIsLeftOut) {
  json task = json::parse(kTaskDocument);
  task["Cluster"] = "default";
  FakeHttpServer server(tmde(kContainerDocument, task.dump()));
  auto found = plugins::ecs(options_for(server))->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->aws["ecs"].contains("cluster_arn"));
  EXPECT_EQ(found->aws["ecs"]["task_arn"],
            "arn:aws:ecs:us-west-2:111122223333:task/default/8f03e41243824aea923aca126495f665");
}

TEST(EcsPluginTest, APartitionOtherThanAwsIsCarriedIntoTheLogGroupArn) {
  json container = json::parse(kContainerDocument);
  container["ContainerARN"] = "arn:aws-cn:ecs:cn-north-1:111122223333:container/abc";
  container["LogOptions"]["awslogs-region"] = "cn-north-1";
  FakeHttpServer server(tmde(container.dump(), kTaskDocument));
  auto found = plugins::ecs(options_for(server))->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws["cloudwatch_logs"], json::parse(R"([{"log_group":"/ecs/metadata",
      "arn":"arn:aws-cn:logs:cn-north-1:111122223333:log-group:/ecs/metadata"}])"));
}

TEST(EcsPluginTest, WithoutARegionTheLogGroupHasNoArn) {
  json container = json::parse(kContainerDocument);
  container["LogOptions"].erase("awslogs-region");
  FakeHttpServer server(tmde(container.dump(), kTaskDocument));
  auto found = plugins::ecs(options_for(server))->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws["cloudwatch_logs"], json::parse(R"([{"log_group":"/ecs/metadata"}])"));
}

TEST(EcsPluginTest, AnotherLogDriverGivesNoLogGroup) {
  json container = json::parse(kContainerDocument);
  container["LogDriver"] = "json-file";
  FakeHttpServer server(tmde(container.dump(), kTaskDocument));
  auto found = plugins::ecs(options_for(server))->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->aws.contains("cloudwatch_logs"));
  EXPECT_TRUE(found->aws.contains("ecs"));
}

TEST(EcsPluginTest, WithoutDockerIdTheContainerIdComesFromCgroupV1) {
  FakeHttpServer server(
      tmde(without(json::parse(kContainerDocument), "DockerId").dump(), kTaskDocument));
  TempFile cgroup(std::string("13:name=systemd:/docker/") + kCgroupId + "\n" +
                  "12:pids:/docker/" + kCgroupId + "\n");
  auto options = options_for(server);
  options.cgroup_path = cgroup.path();
  auto found = plugins::ecs(options)->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws["ecs"]["container_id"], kCgroupId);
}

TEST(EcsPluginTest, WithoutDockerIdTheContainerIdComesFromCgroupV2DockerMount) {
  FakeHttpServer server(
      tmde(without(json::parse(kContainerDocument), "DockerId").dump(), kTaskDocument));
  TempFile cgroup("0::/\n");
  TempFile mountinfo(
      std::string("1520 1519 0:135 / / rw,relatime - overlay overlay rw\n") +
      "1530 1520 259:1 /docker/" + kCgroupId +
      "/hostname /etc/hostname rw,relatime - ext4 /dev/nvme0n1p1 rw\n");
  auto options = options_for(server);
  options.cgroup_path = cgroup.path();
  options.mountinfo_path = mountinfo.path();
  auto found = plugins::ecs(options)->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws["ecs"]["container_id"], kCgroupId);
}

TEST(EcsPluginTest, WithoutDockerIdTheContainerIdComesFromCgroupV2ContainersMount) {
  FakeHttpServer server(
      tmde(without(json::parse(kContainerDocument), "DockerId").dump(), kTaskDocument));
  TempFile cgroup("0::/\n");
  TempFile mountinfo(std::string("1531 1520 259:1 /var/lib/docker/containers/") + kCgroupId +
                     "/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/nvme0n1p1 rw\n");
  auto options = options_for(server);
  options.cgroup_path = cgroup.path();
  options.mountinfo_path = mountinfo.path();
  auto found = plugins::ecs(options)->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws["ecs"]["container_id"], kCgroupId);
}

TEST(EcsPluginTest, DockerIdWinsOverCgroups) {
  FakeHttpServer server(tmde(kContainerDocument, kTaskDocument));
  TempFile cgroup(std::string("12:pids:/docker/") + kCgroupId + "\n");
  auto options = options_for(server);
  options.cgroup_path = cgroup.path();
  auto found = plugins::ecs(options)->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws["ecs"]["container_id"], kDockerId);
}

TEST(EcsPluginTest, NoContainerIdAnywhereLeavesTheFieldOut) {
  FakeHttpServer server(
      tmde(without(json::parse(kContainerDocument), "DockerId").dump(), kTaskDocument));
  auto found = plugins::ecs(options_for(server))->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->aws["ecs"].contains("container_id"));
  EXPECT_EQ(found->aws["ecs"]["container"], "curl-host");
}

class EcsTaskFailureTest : public ::testing::TestWithParam<int> {};

TEST_P(EcsTaskFailureTest, ContainerFieldsAreStillReported) {
  FakeHttpServer server(tmde(kContainerDocument, "oops", GetParam()));
  auto found = plugins::ecs(options_for(server))->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->origin, "AWS::ECS::Container");
  EXPECT_EQ(found->aws["ecs"], json::parse(R"({"container":"curl-host",
      "container_id":"ea32192c8553fbff06c9340478a2ff089b2bb5646fb718b4ee206641c9086d66",
      "container_arn":"arn:aws:ecs:us-west-2:111122223333:container/0206b271-b33f-47ab-86c6-a0ba208a70a9"})"));
  EXPECT_EQ(found->aws["cloudwatch_logs"], expected_logs());
}

// 200 with "oops" is an invalid JSON body.
INSTANTIATE_TEST_SUITE_P(Statuses, EcsTaskFailureTest, ::testing::Values(404, 500, 200));

class EcsContainerFailureTest : public ::testing::TestWithParam<std::pair<int, std::string>> {};

TEST_P(EcsContainerFailureTest, Throws) {
  FakeHttpServer server([status = GetParam().first, body = GetParam().second](
                            const RecordedRequest& request) {
    if (request.target == kPrefix) return HttpReply(status, {}, body);
    return HttpReply(200, {}, kTaskDocument);
  });
  auto plugin = plugins::ecs(options_for(server));
  EXPECT_THROW(plugin->detect(generous_deadline()), DetectionError);
}

INSTANTIATE_TEST_SUITE_P(Answers, EcsContainerFailureTest,
                         ::testing::Values(std::pair<int, std::string>(500, kContainerDocument),
                                           std::pair<int, std::string>(404, ""),
                                           std::pair<int, std::string>(200, "{\"DockerId\":"),
                                           std::pair<int, std::string>(200, "[]")));

TEST(EcsPluginTest, AContainerRequestThatNeverAnswersFailsByTheDeadline) {
  FakeHttpServer server([](const RecordedRequest&) { return HttpReply::hang_up(); });
  auto plugin = plugins::ecs(options_for(server));
  EXPECT_THROW(plugin->detect(std::chrono::steady_clock::now() + std::chrono::milliseconds(300)),
               DetectionError);
}

TEST(EcsPluginTest, AUriThatIsNotHttpFails) {
  FakeHttpServer server(tmde(kContainerDocument, kTaskDocument));
  for (std::string uri : {"https://127.0.0.1:" + std::to_string(server.port()) + kPrefix,
                          "127.0.0.1:" + std::to_string(server.port()) + kPrefix,
                          std::string("unix:///var/run/ecs.sock")}) {
    auto options = options_for(server);
    options.metadata_uri = uri;
    auto plugin = plugins::ecs(options);
    EXPECT_THROW(plugin->detect(generous_deadline()), DetectionError) << uri;
  }
  EXPECT_TRUE(server.requests().empty());
}

// Tests that read the process environment restore it when they finish.
class EcsEnvironmentTest : public ::testing::Test {
 protected:
  ScopedEnv v4_{"ECS_CONTAINER_METADATA_URI_V4", nullptr};
  ScopedEnv v3_{"ECS_CONTAINER_METADATA_URI", nullptr};
};

TEST_F(EcsEnvironmentTest, NoUriMeansNotOnEcs) {
  plugins::EcsOptions options;
  options.hostname = "curl-host";
  EXPECT_FALSE(plugins::ecs(options)->detect(generous_deadline()).has_value());
}

TEST_F(EcsEnvironmentTest, ABlankUriMeansNotOnEcs) {
  ScopedEnv blank("ECS_CONTAINER_METADATA_URI_V4", "  ");
  plugins::EcsOptions options;
  EXPECT_FALSE(plugins::ecs(options)->detect(generous_deadline()).has_value());
}

TEST_F(EcsEnvironmentTest, TheUriComesFromEcsContainerMetadataUriV4) {
  FakeHttpServer server(tmde(kContainerDocument, kTaskDocument));
  ScopedEnv v4("ECS_CONTAINER_METADATA_URI_V4", (server.base_url() + kPrefix).c_str());
  ScopedEnv v3("ECS_CONTAINER_METADATA_URI", "http://127.0.0.1:1/v3");
  auto options = options_for(server);
  options.metadata_uri.clear();
  auto found = plugins::ecs(options)->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws["ecs"]["task_family"], "curltest");
}

TEST_F(EcsEnvironmentTest, V3IsTheFallback) {
  FakeHttpServer server(tmde(kContainerDocument, kTaskDocument));
  ScopedEnv v3("ECS_CONTAINER_METADATA_URI", (server.base_url() + kPrefix).c_str());
  auto options = options_for(server);
  options.metadata_uri.clear();
  auto found = plugins::ecs(options)->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws["ecs"]["container_id"], kDockerId);
  EXPECT_EQ(found->aws["ecs"]["task_family"], "curltest");
}

TEST_F(EcsEnvironmentTest, TheOptionWinsOverTheEnvironment) {
  FakeHttpServer server(tmde(kContainerDocument, kTaskDocument));
  ScopedEnv v4("ECS_CONTAINER_METADATA_URI_V4", "http://127.0.0.1:1/v4");
  auto found = plugins::ecs(options_for(server))->detect(generous_deadline());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(server.requests().size(), 2u);
}

}  // namespace
}  // namespace xray
