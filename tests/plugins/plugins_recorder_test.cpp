// Integration: plugins configured on a Recorder, detected in the background against fake metadata
// servers, and their data on the documents the fake daemon receives.
#include "xray/plugins.hpp"

#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <mutex>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "recorder/recorder_core.hpp"
#include "support/fake_daemon.hpp"
#include "support/fake_http_server.hpp"
#include "support/gate.hpp"
#include "support/temp_file.hpp"
#include "support/test_recorder.hpp"
#include "xray/recorder.hpp"

namespace xray {
namespace {

using json = nlohmann::json;
using ::testing::IsEmpty;
using testing::config_for;
using testing::configure;
using testing::FakeDaemon;
using testing::FakeHttpServer;
using testing::find_by_name;
using testing::HttpReply;
using testing::missing_path;
using testing::RecordedRequest;
using testing::TempFile;

constexpr auto kWait = std::chrono::seconds(10);
constexpr const char* kTokenPath = "/latest/api/token";
constexpr const char* kIdentityPath = "/latest/dynamic/instance-identity/document";
constexpr const char* kEcsPrefix = "/v4/task-1";

const char* const kIdentityDocument =
    R"({"availabilityZone":"us-west-2b","imageId":"ami-5fb8c835","instanceId":"i-1234567890abcdef0",
        "instanceType":"t2.micro","region":"us-west-2"})";
const char* const kContainerDocument = R"({
  "DockerId":"ea32192c8553fbff06c9340478a2ff089b2bb5646fb718b4ee206641c9086d66","Name":"curl",
  "LogDriver":"awslogs",
  "LogOptions":{"awslogs-group":"/ecs/metadata","awslogs-region":"us-west-2"},
  "ContainerARN":"arn:aws:ecs:us-west-2:111122223333:container/0206b271"})";
const char* const kTaskDocument = R"({
  "Cluster":"arn:aws:ecs:us-west-2:111122223333:cluster/default","Family":"curltest",
  "LaunchType":"EC2","TaskARN":"arn:aws:ecs:us-west-2:111122223333:task/default/8f03e412",
  "AvailabilityZone":"us-west-2d"})";
const char* const kBeanstalkFile =
    R"({"deployment_id":32,"version_label":"v-1","environment_name":"scorekeep"})";

// Serves IMDS (v2) and an ECS task metadata endpoint at kEcsPrefix.
HttpReply metadata_server(const RecordedRequest& request) {
  if (request.target == kTokenPath) return HttpReply(200, {}, "token-1");
  if (request.target == kIdentityPath) return HttpReply(200, {}, kIdentityDocument);
  if (request.target == kEcsPrefix) return HttpReply(200, {}, kContainerDocument);
  if (request.target == std::string(kEcsPrefix) + "/task") return HttpReply(200, {}, kTaskDocument);
  return HttpReply(404);
}

using testing::Gate;
using testing::OpenOnExit;

// Opens the gate on scope exit, so a failing assertion never leaves the server's thread blocked.
std::shared_ptr<const Plugin> ec2_at(const FakeHttpServer& server) {
  plugins::Ec2Options options;
  options.endpoint = "127.0.0.1:" + std::to_string(server.port());
  return plugins::ec2(options);
}

std::shared_ptr<const Plugin> ecs_at(const FakeHttpServer& server) {
  plugins::EcsOptions options;
  options.metadata_uri = server.base_url() + kEcsPrefix;
  options.cgroup_path = missing_path();
  options.mountinfo_path = missing_path();
  options.hostname = "curl-host";
  return plugins::ecs(options);
}

std::shared_ptr<const Plugin> beanstalk_at(const std::string& path) {
  plugins::ElasticBeanstalkOptions options;
  options.config_path = path;
  return plugins::elastic_beanstalk(options);
}

// A plugin that throws something that is not a std::exception.
class ThrowingPlugin final : public Plugin {
 public:
  std::string_view name() const noexcept override { return "ThrowingPlugin"; }
  std::optional<PluginMetadata> detect(std::chrono::steady_clock::time_point) const override {
    throw 42;
  }
};

// A plugin that always finds `origin` with `precedence`.
class FixedPlugin final : public Plugin {
 public:
  FixedPlugin(std::string origin, int precedence) : origin_(std::move(origin)), precedence_(precedence) {}
  std::string_view name() const noexcept override { return "FixedPlugin"; }
  std::optional<PluginMetadata> detect(std::chrono::steady_clock::time_point) const override {
    PluginMetadata metadata;
    metadata.origin = origin_;
    metadata.origin_precedence = precedence_;
    return metadata;
  }

 private:
  std::string origin_;
  int precedence_;
};

detail::PluginState& plugin_state(Recorder& recorder) {
  return detail::RecorderAccess::core(recorder).plugins();
}

json aws_of(const json& document) {
  return document.is_object() ? document.value("aws", json::object()) : json::object();
}

class PluginsRecorderTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_THAT(daemon_.errors(), IsEmpty()); }

  Config config_with(std::vector<std::shared_ptr<const Plugin>> plugins,
                     std::chrono::milliseconds budget = kWait) {
    Config config = config_for(daemon_);
    config.plugins = std::move(plugins);
    config.plugin_budget = budget;
    return config;
  }

  // Begins and ends a segment named `name`, flushes, and returns its document.
  json send_segment(Recorder& recorder, const std::string& name) {
    std::size_t before = daemon_.documents().size();
    { SegmentScope segment = recorder.begin_segment(name); }
    EXPECT_TRUE(recorder.flush(kWait));
    return received(name, before);
  }

  // The document named `name`, waiting for it among those after the first `skip`; null if it
  // never arrives.
  json received(const std::string& name, std::size_t skip = 0) {
    for (std::size_t count = skip + 1;; ++count) {
      if (!daemon_.wait_for_documents(count, kWait)) {
        ADD_FAILURE() << "no document named " << name;
        return json();
      }
      auto entities = testing::flatten(daemon_.documents());
      if (const json* found = find_by_name(entities, name)) return *found;
    }
  }

  FakeDaemon daemon_;
};

TEST_F(PluginsRecorderTest, TheMostSpecificOriginWinsAndEveryPluginAddsItsMetadata) {
  TempFile beanstalk(kBeanstalkFile);
  FakeHttpServer server(metadata_server);
  for (bool beanstalk_first : {false, true}) {
    SCOPED_TRACE(beanstalk_first ? "Beanstalk listed first" : "Beanstalk listed last");
    std::vector<std::shared_ptr<const Plugin>> list = {ec2_at(server), ecs_at(server)};
    list.insert(beanstalk_first ? list.begin() : list.end(), beanstalk_at(beanstalk.path()));
    Recorder recorder;
    ASSERT_TRUE(configure(recorder, config_with(list)).ok());
    ASSERT_TRUE(plugin_state(recorder).wait_until_done(kWait));

    json document = send_segment(recorder, beanstalk_first ? "first" : "last");
    EXPECT_EQ(document.value("origin", ""), "AWS::ElasticBeanstalk::Environment");
    json aws = aws_of(document);
    EXPECT_EQ(aws["ec2"]["instance_id"], "i-1234567890abcdef0");
    EXPECT_EQ(aws["ecs"]["task_family"], "curltest");
    EXPECT_EQ(aws["elastic_beanstalk"],
              json::parse(R"({"environment_name":"scorekeep","version_label":"v-1",
                              "deployment_id":32})"));
    EXPECT_EQ(aws["cloudwatch_logs"][0]["log_group"], "/ecs/metadata");
  }
}

TEST_F(PluginsRecorderTest, PrecedenceIsThePluginsOwnAndTiesGoToTheLaterPlugin) {
  TempFile beanstalk(kBeanstalkFile);
  Recorder recorder;
  auto custom = std::make_shared<FixedPlugin>("Custom::Platform", 10);
  auto low = std::make_shared<FixedPlugin>("Custom::Low", 0);
  ASSERT_TRUE(configure(recorder, config_with({custom, beanstalk_at(beanstalk.path()), low})).ok());
  ASSERT_TRUE(plugin_state(recorder).wait_until_done(kWait));
  EXPECT_EQ(plugin_state(recorder).result()->origin, "Custom::Platform");

  Recorder tie;
  auto first = std::make_shared<FixedPlugin>("Custom::First", 2);
  auto second = std::make_shared<FixedPlugin>("Custom::Second", 2);
  ASSERT_TRUE(configure(tie, config_with({first, second})).ok());
  ASSERT_TRUE(plugin_state(tie).wait_until_done(kWait));
  EXPECT_EQ(plugin_state(tie).result()->origin, "Custom::Second");
}

// Plugins read the environment the recorder was configured with (tests inject a map), on the
// detection thread, and never the process environment, which has no ECS variable here.
TEST_F(PluginsRecorderTest, PluginsReadTheEnvironmentTheRecorderWasConfiguredWith) {
  FakeHttpServer server(metadata_server);
  plugins::EcsOptions options;  // metadata_uri empty: ECS_CONTAINER_METADATA_URI_V4
  options.cgroup_path = missing_path();
  options.mountinfo_path = missing_path();
  options.hostname = "curl-host";
  ASSERT_EQ(std::getenv("ECS_CONTAINER_METADATA_URI_V4"), nullptr);
  Recorder recorder;
  ASSERT_TRUE(configure(recorder, config_with({plugins::ecs(options)}),
                        {{"ECS_CONTAINER_METADATA_URI_V4", server.base_url() + kEcsPrefix}})
                  .ok());
  ASSERT_TRUE(plugin_state(recorder).wait_until_done(kWait));
  auto result = plugin_state(recorder).result();
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->origin, "AWS::ECS::Container");
  // Without it the same plugin finds no ECS.
  Recorder elsewhere;
  ASSERT_TRUE(configure(elsewhere, config_with({plugins::ecs(options)})).ok());
  ASSERT_TRUE(plugin_state(elsewhere).wait_until_done(kWait));
  ASSERT_NE(plugin_state(elsewhere).result(), nullptr);
  EXPECT_EQ(plugin_state(elsewhere).result()->origin, "");
}

TEST_F(PluginsRecorderTest, EcsOutranksEc2) {
  FakeHttpServer server(metadata_server);
  Recorder recorder;
  ASSERT_TRUE(configure(recorder, config_with({ecs_at(server), ec2_at(server)})).ok());
  ASSERT_TRUE(plugin_state(recorder).wait_until_done(kWait));
  json document = send_segment(recorder, "orders");
  EXPECT_EQ(document.value("origin", ""), "AWS::ECS::Container");
  EXPECT_TRUE(aws_of(document).contains("ec2"));
  EXPECT_TRUE(aws_of(document).contains("ecs"));
}

TEST_F(PluginsRecorderTest, OnlySegmentsSentAfterDetectionCarryPluginData) {
  Gate gate;
  FakeHttpServer server([&gate](const RecordedRequest& request) {
    if (request.target == kTokenPath) gate.wait();
    return metadata_server(request);
  });
  Recorder recorder;
  OpenOnExit release(gate);
  ASSERT_TRUE(configure(recorder, config_with({ec2_at(server)})).ok());
  // The token request is held by the server: detection cannot finish until the gate opens.
  ASSERT_TRUE(server.wait_for_requests(1, kWait));
  EXPECT_FALSE(plugin_state(recorder).wait_until_done(std::chrono::milliseconds(0)));
  EXPECT_EQ(plugin_state(recorder).result(), nullptr);

  json before = send_segment(recorder, "before");
  ASSERT_FALSE(before.is_null());
  EXPECT_FALSE(before.contains("origin"));
  EXPECT_FALSE(aws_of(before).contains("ec2"));

  SegmentScope during = recorder.begin_segment("during");  // begun during detection
  gate.open();
  ASSERT_TRUE(plugin_state(recorder).wait_until_done(kWait));
  during.end();  // ended (and sent) after it

  ASSERT_TRUE(recorder.flush(kWait));
  json during_document = received("during");
  json after = send_segment(recorder, "after");
  for (const json& document : {during_document, after}) {
    ASSERT_TRUE(document.is_object());
    EXPECT_EQ(document.value("origin", ""), "AWS::EC2::Instance");
    EXPECT_EQ(aws_of(document)["ec2"],
              json::parse(R"({"instance_id":"i-1234567890abcdef0","instance_size":"t2.micro",
                              "ami_id":"ami-5fb8c835","availability_zone":"us-west-2b"})"));
  }
}

TEST_F(PluginsRecorderTest, ConfigureReturnsWhileAProbeIsHeldAndDetectionGivesUpByTheBudget) {
  Gate gate;
  FakeHttpServer server([&gate](const RecordedRequest& request) {
    gate.wait();  // holds the connection (and the server) until the test ends
    return metadata_server(request);
  });
  Recorder recorder;
  OpenOnExit release(gate);
  ASSERT_TRUE(
      configure(recorder, config_with({ec2_at(server)}, std::chrono::milliseconds(300))).ok());
  // configure() has returned while the server holds the probe's connection.
  ASSERT_TRUE(server.wait_for_requests(1, kWait));
  // Detection finishes although the server never answered.
  ASSERT_TRUE(plugin_state(recorder).wait_until_done(kWait));
  auto result = plugin_state(recorder).result();
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->origin, "");
  EXPECT_FALSE(result->aws.contains("ec2"));

  json document = send_segment(recorder, "orders");
  ASSERT_FALSE(document.is_null());
  EXPECT_FALSE(document.contains("origin"));
  EXPECT_FALSE(aws_of(document).contains("ec2"));
}

TEST_F(PluginsRecorderTest, AServerThatAcceptsAndNeverAnswersContributesNothing) {
  FakeHttpServer server([](const RecordedRequest&) { return HttpReply::hang_up(); });
  Recorder recorder;
  ASSERT_TRUE(configure(recorder, config_with({ec2_at(server), ecs_at(server)},
                                              std::chrono::milliseconds(300)))
                  .ok());
  ASSERT_TRUE(plugin_state(recorder).wait_until_done(kWait));
  json document = send_segment(recorder, "orders");
  EXPECT_FALSE(document.contains("origin"));
  EXPECT_FALSE(aws_of(document).contains("ec2"));
  EXPECT_FALSE(aws_of(document).contains("ecs"));
}

TEST_F(PluginsRecorderTest, ShutdownCancelsAProbeInFlightInsteadOfWaitingForTheBudget) {
  // shutdown_timeout bounds every background thread: a recorder destroyed (or the process
  // exiting) while a metadata endpoint hangs does not wait for the 10 s budget.
  FakeHttpServer server([](const RecordedRequest&) { return HttpReply::hang_up(); });
  auto recorder = std::make_unique<Recorder>();
  ASSERT_TRUE(configure(*recorder, config_with({ec2_at(server)}, std::chrono::seconds(10))).ok());
  ASSERT_TRUE(server.wait_for_requests(1, kWait));
  const auto start = std::chrono::steady_clock::now();
  recorder.reset();
  // Functional bound, not a benchmark: without cancellation this takes the 10 s budget.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(PluginsRecorderTest, FailingPluginsContributeNothingNotEvenAnOrigin) {
  FakeHttpServer server([](const RecordedRequest&) { return HttpReply(500, {}, "{}"); });
  TempFile invalid_beanstalk("{not json");
  Recorder recorder;
  ASSERT_TRUE(configure(recorder, config_with({ec2_at(server), ecs_at(server),
                                               beanstalk_at(invalid_beanstalk.path()),
                                               std::make_shared<ThrowingPlugin>()}))
                  .ok());
  ASSERT_TRUE(plugin_state(recorder).wait_until_done(kWait));
  json document = send_segment(recorder, "orders");
  ASSERT_FALSE(document.is_null());
  EXPECT_FALSE(document.contains("origin"));
  json aws = aws_of(document);
  for (const char* key : {"ec2", "ecs", "elastic_beanstalk", "cloudwatch_logs"}) {
    EXPECT_FALSE(aws.contains(key)) << key;
  }
}

TEST_F(PluginsRecorderTest, AFailingPluginDoesNotStopTheOthers) {
  FakeHttpServer failing([](const RecordedRequest&) { return HttpReply(500); });
  FakeHttpServer working(metadata_server);
  Recorder recorder;
  ASSERT_TRUE(configure(recorder, config_with({std::make_shared<ThrowingPlugin>(),
                                               ec2_at(failing), ecs_at(working)}))
                  .ok());
  ASSERT_TRUE(plugin_state(recorder).wait_until_done(kWait));
  json document = send_segment(recorder, "orders");
  EXPECT_EQ(document.value("origin", ""), "AWS::ECS::Container");
  EXPECT_FALSE(aws_of(document).contains("ec2"));
  EXPECT_TRUE(aws_of(document).contains("ecs"));
}

}  // namespace
}  // namespace xray
