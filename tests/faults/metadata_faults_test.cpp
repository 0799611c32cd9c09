// Fault injection (issue 14): metadata endpoints (IMDS for EC2, the ECS task metadata endpoint,
// the Kubernetes API server for EKS) that hang, answer one byte per second, return 50 MB or
// answer with JSON of the wrong types, against a whole Recorder on loopback. Whatever the endpoint
// does, `configure` returns at once, the first segment is sent on time without the endpoint's
// data, a body is refused at the 64 KB cap (plugins/plugin_support.hpp kMaxBodyBytes) instead of
// being buffered, and a recorder destroyed while a probe is in flight returns promptly. A slow
// endpoint that does answer correctly within the budget shows up on the segments sent after.
#include "xray/plugins.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
using testing::FakeDaemon;
using testing::FakeHttpServer;
using testing::find_by_name;
using testing::HttpReply;
using testing::missing_path;
using testing::RecordedRequest;
using testing::TempFile;
using Clock = std::chrono::steady_clock;

constexpr auto kWait = std::chrono::seconds(10);
// Long enough that a probe held by the endpoint is still in flight when the test ends it.
constexpr auto kLongBudget = std::chrono::seconds(10);
constexpr std::uint64_t kFiftyMegabytes = 50 * 1024 * 1024;

constexpr const char* kTokenPath = "/latest/api/token";
constexpr const char* kIdentityPath = "/latest/dynamic/instance-identity/document";
constexpr const char* kEcsPrefix = "/v4/task-1";
constexpr const char* kClusterInfoPath =
    "/api/v1/namespaces/amazon-cloudwatch/configmaps/cluster-info";
constexpr const char* kDockerId = "ea32192c8553fbff06c9340478a2ff089b2bb5646fb718b4ee206641c9086d66";

enum class MetadataEndpoint { kImds, kEcs, kKubernetes };
enum class Fault { kHang, kTrickle, kFiftyMegabytes, kFiftyMegabytesUntilClose, kWrongTypes };

std::string endpoint_name(MetadataEndpoint endpoint) {
  switch (endpoint) {
    case MetadataEndpoint::kImds: return "Imds";
    case MetadataEndpoint::kEcs: return "Ecs";
    case MetadataEndpoint::kKubernetes: return "KubernetesApi";
  }
  return "Unknown";
}

std::string fault_name(Fault fault) {
  switch (fault) {
    case Fault::kHang: return "Hang";
    case Fault::kTrickle: return "OneBytePerSecond";
    case Fault::kFiftyMegabytes: return "FiftyMegabytes";
    case Fault::kFiftyMegabytesUntilClose: return "FiftyMegabytesUntilClose";
    case Fault::kWrongTypes: return "WrongTypes";
  }
  return "Unknown";
}

void PrintTo(MetadataEndpoint endpoint, std::ostream* out) { *out << endpoint_name(endpoint); }
void PrintTo(Fault fault, std::ostream* out) { *out << fault_name(fault); }

// The correct answer of each endpoint.
HttpReply healthy(const RecordedRequest& request) {
  if (request.target == kTokenPath) return HttpReply(200, {}, "token-1");
  if (request.target == kIdentityPath) {
    return HttpReply(200, {}, R"({"availabilityZone":"us-west-2b","imageId":"ami-5fb8c835",
        "instanceId":"i-1234567890abcdef0","instanceType":"t2.micro","region":"us-west-2"})");
  }
  if (request.target == kEcsPrefix) {
    return HttpReply(200, {}, std::string(R"({"DockerId":")") + kDockerId + R"(","Name":"curl",
        "ContainerARN":"arn:aws:ecs:us-west-2:111122223333:container/0206b271"})");
  }
  if (request.target == std::string(kEcsPrefix) + "/task") {
    return HttpReply(200, {}, R"({"Cluster":"arn:aws:ecs:us-west-2:111122223333:cluster/default",
        "Family":"curltest","TaskARN":"arn:aws:ecs:us-west-2:111122223333:task/default/8f03e412"})");
  }
  if (request.target == kClusterInfoPath) {
    return HttpReply(200, {}, R"({"kind":"ConfigMap","data":{"cluster.name":"prod"}})");
  }
  return HttpReply(404);
}

// Wrong types where objects and strings are expected: each set is one server's answers, by path.
std::vector<std::vector<std::pair<std::string, std::string>>> wrong_types(MetadataEndpoint endpoint) {
  const std::string task = std::string(kEcsPrefix) + "/task";
  switch (endpoint) {
    case MetadataEndpoint::kImds:
      return {{{kIdentityPath, R"(["i-1234567890abcdef0"])"}},
              {{kIdentityPath, "42"}},
              {{kIdentityPath, R"("i-1234567890abcdef0")"}},
              {{kIdentityPath, R"({"instanceId":42,"instanceType":["t2.micro"],"imageId":{}})"}},
              {{kTokenPath, R"(["token"])"}, {kIdentityPath, R"({"instanceId":{"id":"i-1"}})"}}};
    case MetadataEndpoint::kEcs:
      return {{{kEcsPrefix, R"([{"DockerId":"x"}])"}},
              {{kEcsPrefix, "1e3"}},
              {{kEcsPrefix, R"({"DockerId":5,"ContainerARN":["arn"],"LogDriver":"awslogs",
                               "LogOptions":"awslogs-group"})"},
               {task, R"({"TaskARN":1,"Cluster":{"arn":"x"},"Family":null,"LaunchType":[]})"}},
              {{kEcsPrefix, R"({"DockerId":null,"LogDriver":["awslogs"],
                               "LogOptions":{"awslogs-group":5}})"},
               {task, "[]"}}};
    case MetadataEndpoint::kKubernetes:
      return {{{kClusterInfoPath, "[]"}},
              {{kClusterInfoPath, R"("prod")"}},
              {{kClusterInfoPath, R"({"data":["prod"]})"}},
              {{kClusterInfoPath, R"({"data":{"cluster.name":42}})"}},
              {{kClusterInfoPath, R"({"data":"cluster.name=prod"})"}}};
  }
  return {};
}

using testing::Gate;

json aws_of(const json& document) {
  return document.is_object() ? document.value("aws", json::object()) : json::object();
}

// Whether `document` carries what only the endpoint's (correct) answer provides.
bool carries_endpoint_data(MetadataEndpoint endpoint, const json& document) {
  const json aws = aws_of(document);
  switch (endpoint) {
    case MetadataEndpoint::kImds: return aws.contains("ec2");
    case MetadataEndpoint::kEcs: return aws.contains("ecs") && aws["ecs"].contains("container_id");
    case MetadataEndpoint::kKubernetes:
      return aws.contains("eks") && aws["eks"].contains("cluster_name");
  }
  return false;
}

class MetadataFaultsFixture {
 protected:
  MetadataFaultsFixture() : token_("eyJhbGciOiJSUzI1NiJ9.fake\n") {}

  std::shared_ptr<const Plugin> plugin_at(MetadataEndpoint endpoint, const FakeHttpServer& server) {
    switch (endpoint) {
      case MetadataEndpoint::kImds: {
        plugins::Ec2Options options;
        options.endpoint = "127.0.0.1:" + std::to_string(server.port());
        return plugins::ec2(options);
      }
      case MetadataEndpoint::kEcs: {
        plugins::EcsOptions options;
        options.metadata_uri = server.base_url() + kEcsPrefix;
        options.cgroup_path = missing_path();
        options.mountinfo_path = missing_path();
        options.hostname = "curl-host";
        return plugins::ecs(options);
      }
      case MetadataEndpoint::kKubernetes: {
        plugins::EksOptions options;
        options.token_path = token_.path();
        options.ca_path = missing_path();
        options.api_server_url = server.base_url();  // plain http: the faults, not TLS, are tested
        options.cgroup_path = missing_path();
        options.mountinfo_path = missing_path();
        options.hostname = "orders-pod";
        return plugins::eks(options);
      }
    }
    return nullptr;
  }

  // A recorder sampling everything into daemon_, with `plugin`; configure must return at once.
  std::unique_ptr<Recorder> recorder_with(std::shared_ptr<const Plugin> plugin,
                                          std::chrono::milliseconds budget) {
    Config config = config_for(daemon_);
    config.plugins = {std::move(plugin)};
    config.plugin_budget = budget;
    config.log_sink = log_.sink();
    config.log_level = LogLevel::kDebug;  // a plugin's failure is a debug line
    auto recorder = std::make_unique<Recorder>();
    const auto start = Clock::now();
    EXPECT_TRUE(testing::configure(*recorder, config).ok());
    // Functional bound: a configure that waited for the probe would take the budget.
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(1));
    return recorder;
  }

  static detail::PluginState& plugin_state(Recorder& recorder) {
    return detail::RecorderAccess::core(recorder).plugins();
  }

  // Begins and ends a segment named `name`, flushes, and returns its document (null if it never
  // arrives).
  json send_segment(Recorder& recorder, const std::string& name) {
    { SegmentScope segment = recorder.begin_segment(name); }
    EXPECT_TRUE(recorder.flush(std::chrono::seconds(2))) << "the segment was not sent on time";
    for (std::size_t count = 1; daemon_.wait_for_documents(count, kWait); ++count) {
      auto entities = testing::flatten(daemon_.documents());
      if (const json* found = find_by_name(entities, name)) return *found;
    }
    ADD_FAILURE() << "no document named " << name;
    return json();
  }

  // Destroys `recorder`, which must return promptly whatever its probes are doing.
  static void destroy_promptly(std::unique_ptr<Recorder>& recorder) {
    const auto start = Clock::now();
    recorder.reset();
    // Functional bound, not a benchmark: without cancellation this takes the 10 s budget.
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  }

  // With AWS_XRAY_EKS_CLUSTER_NAME set, the EKS plugin never asks the API server (read-only
  // check: the tests do not edit the environment).
  static bool eks_skips_the_api_server() {
    const char* cluster = std::getenv("AWS_XRAY_EKS_CLUSTER_NAME");
    return cluster != nullptr && *cluster != '\0';
  }

  FakeDaemon daemon_;
  TempFile token_;
  testing::CapturedLog log_;
};

class MetadataFaultsTest
    : public MetadataFaultsFixture,
      public ::testing::TestWithParam<std::tuple<MetadataEndpoint, Fault>> {
 protected:
  void TearDown() override { EXPECT_THAT(daemon_.errors(), IsEmpty()); }
};

TEST_P(MetadataFaultsTest, ConfigureReturnsTheFirstSegmentIsSentAndShutdownIsPrompt) {
  const MetadataEndpoint endpoint = std::get<0>(GetParam());
  const Fault fault = std::get<1>(GetParam());
  if (endpoint == MetadataEndpoint::kKubernetes && eks_skips_the_api_server()) {
    GTEST_SKIP() << "AWS_XRAY_EKS_CLUSTER_NAME is set";
  }
  std::vector<std::vector<std::pair<std::string, std::string>>> variants = {{}};
  if (fault == Fault::kWrongTypes) variants = wrong_types(endpoint);
  for (std::size_t v = 0; v < variants.size(); ++v) {
    SCOPED_TRACE("variant " + std::to_string(v));
    const auto wrong = variants[v];
    FakeHttpServer server([fault, wrong](const RecordedRequest& request) {
      switch (fault) {
        case Fault::kHang: return HttpReply::hang_up();
        case Fault::kTrickle: return HttpReply::trickle(1, healthy(request));
        case Fault::kFiftyMegabytes: return HttpReply::large(kFiftyMegabytes, true, "{");
        case Fault::kFiftyMegabytesUntilClose: return HttpReply::large(kFiftyMegabytes, false, "{");
        case Fault::kWrongTypes: break;
      }
      for (const auto& [path, body] : wrong) {
        if (request.target == path) return HttpReply(200, {}, body);
      }
      return healthy(request);
    });
    const auto configured = Clock::now();
    auto recorder = recorder_with(plugin_at(endpoint, server), kLongBudget);

    json first = send_segment(*recorder, "first-" + std::to_string(v));
    ASSERT_TRUE(first.is_object());
    EXPECT_FALSE(carries_endpoint_data(endpoint, first)) << first.dump();

    if (fault == Fault::kHang || fault == Fault::kTrickle) {
      // The probe is held by the endpoint: destroy the recorder while it is in flight.
      ASSERT_TRUE(server.wait_for_requests(1, kWait));
      EXPECT_FALSE(plugin_state(*recorder).wait_until_done(std::chrono::milliseconds(0)));
      EXPECT_FALSE(first.contains("origin"));  // sent before the plugin contributed anything
    } else {
      // Refused (at the cap, or for its types) long before the budget; the next segment is sent
      // without the endpoint's data.
      ASSERT_TRUE(plugin_state(*recorder).wait_until_done(kWait));
      EXPECT_LT(Clock::now() - configured, std::chrono::seconds(5));
      if (fault != Fault::kWrongTypes) {
        // Refused at the 64 KB cap: the client stopped reading, so the endpoint never got to
        // write its 50 MB.
        // (EKS drops a failed config map silently: its cluster name is optional.)
        if (endpoint != MetadataEndpoint::kKubernetes) {
          EXPECT_TRUE(log_.contains("body limit")) << ::testing::PrintToString(log_.lines());
        }
        EXPECT_LT(server.bytes_sent(), kFiftyMegabytes);
      }
      json second = send_segment(*recorder, "second-" + std::to_string(v));
      EXPECT_FALSE(carries_endpoint_data(endpoint, second)) << second.dump();
    }
    destroy_promptly(recorder);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Faults, MetadataFaultsTest,
    ::testing::Combine(::testing::Values(MetadataEndpoint::kImds, MetadataEndpoint::kEcs,
                                         MetadataEndpoint::kKubernetes),
                       ::testing::Values(Fault::kHang, Fault::kTrickle, Fault::kFiftyMegabytes,
                                         Fault::kFiftyMegabytesUntilClose, Fault::kWrongTypes)),
    [](const ::testing::TestParamInfo<std::tuple<MetadataEndpoint, Fault>>& info) {
      return endpoint_name(std::get<0>(info.param)) + fault_name(std::get<1>(info.param));
    });

class SlowMetadataTest : public MetadataFaultsFixture,
                         public ::testing::TestWithParam<MetadataEndpoint> {
 protected:
  void TearDown() override { EXPECT_THAT(daemon_.errors(), IsEmpty()); }
};

TEST_P(SlowMetadataTest, LaterSegmentsCarryTheDataOfASlowButCorrectEndpoint) {
  const MetadataEndpoint endpoint = GetParam();
  if (endpoint == MetadataEndpoint::kKubernetes && eks_skips_the_api_server()) {
    GTEST_SKIP() << "AWS_XRAY_EKS_CLUSTER_NAME is set";
  }
  Gate gate;
  // Nothing is answered until the first segment was received; then every answer trickles in at
  // 2,000 bytes per second, well within the budget.
  FakeHttpServer server([&gate](const RecordedRequest& request) {
    gate.wait();
    return HttpReply::trickle(2000, healthy(request));
  });
  auto recorder = recorder_with(plugin_at(endpoint, server), std::chrono::seconds(5));
  struct OpenOnExit {
    Gate& gate;
    ~OpenOnExit() { gate.open(); }
  } release{gate};

  json first = send_segment(*recorder, "first");
  ASSERT_TRUE(first.is_object());
  EXPECT_FALSE(first.contains("origin"));
  EXPECT_FALSE(carries_endpoint_data(endpoint, first)) << first.dump();

  gate.open();
  ASSERT_TRUE(plugin_state(*recorder).wait_until_done(kWait));
  json later = send_segment(*recorder, "later");
  EXPECT_TRUE(carries_endpoint_data(endpoint, later)) << later.dump();
  EXPECT_NE(later.value("origin", ""), "");
  destroy_promptly(recorder);
}

INSTANTIATE_TEST_SUITE_P(Faults, SlowMetadataTest,
                         ::testing::Values(MetadataEndpoint::kImds, MetadataEndpoint::kEcs,
                                           MetadataEndpoint::kKubernetes),
                         [](const ::testing::TestParamInfo<MetadataEndpoint>& info) {
                           return endpoint_name(info.param);
                         });

class MetadataBudgetTest : public MetadataFaultsFixture, public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_THAT(daemon_.errors(), IsEmpty()); }
};

TEST_F(MetadataBudgetTest, EndpointsTricklingPastTheBudgetContributeNothing) {
  if (eks_skips_the_api_server()) GTEST_SKIP() << "AWS_XRAY_EKS_CLUSTER_NAME is set";
  FakeHttpServer server([](const RecordedRequest& request) {
    return HttpReply::trickle(1, healthy(request));
  });
  Config config = config_for(daemon_);
  config.plugins = {plugin_at(MetadataEndpoint::kImds, server),
                    plugin_at(MetadataEndpoint::kEcs, server),
                    plugin_at(MetadataEndpoint::kKubernetes, server)};
  config.plugin_budget = std::chrono::milliseconds(600);
  auto recorder = std::make_unique<Recorder>();
  ASSERT_TRUE(testing::configure(*recorder, config).ok());
  ASSERT_TRUE(plugin_state(*recorder).wait_until_done(kWait));
  json document = send_segment(*recorder, "after-the-budget");
  for (MetadataEndpoint endpoint :
       {MetadataEndpoint::kImds, MetadataEndpoint::kEcs, MetadataEndpoint::kKubernetes}) {
    EXPECT_FALSE(carries_endpoint_data(endpoint, document)) << endpoint_name(endpoint);
  }
  // EKS still knows its pod from the token file; EC2 and ECS contribute nothing.
  EXPECT_EQ(document.value("origin", ""), "AWS::EKS::Container");
  EXPECT_FALSE(aws_of(document).contains("ec2"));
  EXPECT_FALSE(aws_of(document).contains("ecs"));
  destroy_promptly(recorder);
}

}  // namespace
}  // namespace xray
