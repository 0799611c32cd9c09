// Local sampling rules through Recorder configuration: Config::sampling set to
// Sampling::local_rules_file / local_rules_json (spec §7.2).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>

#include "sampling/local_rules.hpp"
#include "support/fake_daemon.hpp"
#include "support/fake_http_server.hpp"
#include "support/test_recorder.hpp"
#include "xray/recorder.hpp"
#include "xray/sampling.hpp"

namespace xray {
namespace {

using testing::config_for;
using testing::configure;
using ::testing::Contains;
using testing::FakeDaemon;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr auto kWait = std::chrono::seconds(5);

// A file under /tmp, unique per process and per instance; removed on destruction.
class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    static std::atomic<int> counter{0};
    path_ = "/tmp/xray_sampling_config_test_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter.fetch_add(1)) + ".json";
    std::ofstream(path_) << contents;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::shared_ptr<SamplingStrategy> sampler_of(Recorder& recorder) {
  return detail::RecorderAccess::core(recorder).settings()->sampler;
}

bool begin_sampled(Recorder& recorder, const SamplingRequest& request) {
  SegmentScope segment = recorder.begin_segment("checkout", TraceHeader{}, request);
  return segment.sampled();
}

SamplingRequest path(std::string_view url_path) {
  SamplingRequest request;
  request.host = "shop.example.com";
  request.method = "GET";
  request.url_path = url_path;
  return request;
}

const char* const kNeverRules =
    R"({"version":2,"default":{"fixed_target":1,"rate":1},"rules":[)"
    R"({"description":"health checks","host":"*","http_method":"*","url_path":"/never/*",)"
    R"("fixed_target":0,"rate":0}]})";

class SamplingConfigTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_THAT(daemon_.errors(), IsEmpty()); }

  FakeDaemon daemon_;
  Recorder recorder_;
};

TEST_F(SamplingConfigTest, InvalidRulesFileReportsFileAndProblemAndUsesTheDefault) {
  TempFile rules(R"({"version":2,"default":{"fixed_target":1,"rate":0.05},"rules":[)"
                 R"({"host":"*","http_method":"*","url_path":"*","fixed_target":1,"rate":5}]})");
  Config config = config_for(daemon_, "rules-service");
  config.sampling = Sampling::local_rules_file(rules.path());
  ConfigResult result = configure(recorder_, config);
  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_THAT(result.errors[0], HasSubstr("\"" + rules.path() + "\""));
  EXPECT_THAT(result.errors[0], HasSubstr("rules[0]: rate must be a number in [0, 1]"));

  // Everything else applied; sampling uses the built-in default (1 per second, then 5%).
  auto settings = detail::RecorderAccess::core(recorder_).settings();
  EXPECT_EQ(settings->service_name, "rules-service");
  ASSERT_NE(settings->sampler, nullptr);
  EXPECT_EQ(dynamic_cast<detail::LocalRulesSampling*>(settings->sampler.get()), nullptr);
  EXPECT_EQ(settings->sampler->describe(), make_default_sampling()->describe());
  // The default's reservoir is fresh, so the first segment is sampled.
  EXPECT_TRUE(begin_sampled(recorder_, path("/never/x")));
}

TEST_F(SamplingConfigTest, NumberOutOfDoubleRangeIsAnInvalidFileNotAnException) {
  // Regression (hostile run): 1e400 made the loader throw nlohmann's out_of_range.406, so
  // configure() applied no field at all, not even the daemon address.
  TempFile rules(R"({"version":2,"default":{"fixed_target":1,"rate":1e400}})");
  Config config = config_for(daemon_, "huge-number");
  config.sampling = Sampling::local_rules_file(rules.path());
  ConfigResult result = configure(recorder_, config);
  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_THAT(result.errors[0], HasSubstr("\"" + rules.path() + "\": invalid JSON"));
  EXPECT_EQ(detail::RecorderAccess::core(recorder_).settings()->service_name, "huge-number");
  { auto segment = recorder_.begin_segment("delivered"); }
  ASSERT_TRUE(recorder_.flush(kWait));
  EXPECT_TRUE(daemon_.wait_for_documents(1, kWait));  // the daemon address was applied
}

// Records what the recorder asked; samples nothing.
class CapturingStrategy final : public SamplingStrategy {
 public:
  SamplingDecision decide(const SamplingRequest& request) noexcept override {
    std::lock_guard<std::mutex> lock(mutex);
    service_name = request.service_name ? std::optional<std::string>(*request.service_name) : std::nullopt;
    return {};
  }
  std::string describe() const override { return "capturing"; }
  std::mutex mutex;
  std::optional<std::string> service_name;
};

TEST_F(SamplingConfigTest, TheCallersServiceNameIsUsedAsGivenAndFilledOnlyWhenUnset) {
  auto strategy = std::make_shared<CapturingStrategy>();
  Config config = config_for(daemon_, "segment-name");
  config.sampling = std::shared_ptr<SamplingStrategy>(strategy);
  ASSERT_TRUE(configure(recorder_, config).ok());
  SamplingRequest request;
  { auto segment = recorder_.begin_segment("checkout", TraceHeader{}, request); }
  EXPECT_EQ(strategy->service_name, std::optional<std::string>("checkout"));
  request.service_name = "from-caller";
  { auto segment = recorder_.begin_segment("checkout", TraceHeader{}, request); }
  EXPECT_EQ(strategy->service_name, std::optional<std::string>("from-caller"));
  request.service_name = "";  // given, and empty: kept (it then matches any rule pattern)
  { auto segment = recorder_.begin_segment("checkout", TraceHeader{}, request); }
  EXPECT_EQ(strategy->service_name, std::optional<std::string>(""));
}

TEST_F(SamplingConfigTest, MissingRulesFileIsReported) {
  Config config = config_for(daemon_);
  std::string missing =
      "/tmp/xray_sampling_config_test_does_not_exist_" + std::to_string(::getpid()) + ".json";
  config.sampling = Sampling::local_rules_file(missing);
  ConfigResult result = configure(recorder_, config);
  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_THAT(result.errors[0], HasSubstr(missing));
  EXPECT_THAT(result.errors[0], HasSubstr("cannot open"));
  EXPECT_NE(sampler_of(recorder_), nullptr);
}

TEST_F(SamplingConfigTest, InvalidRulesJsonIsReported) {
  Config config = config_for(daemon_);
  config.sampling = Sampling::local_rules_json(R"({"version":3,"default":{}})");
  ConfigResult result = configure(recorder_, config);
  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_THAT(result.errors[0], HasSubstr("sampling rules JSON: version must be 1 or 2"));
  ASSERT_NE(sampler_of(recorder_), nullptr);
  EXPECT_EQ(sampler_of(recorder_)->describe(), make_default_sampling()->describe());
}

TEST_F(SamplingConfigTest, ValidRulesFileDecidesPerPath) {
  TempFile rules(kNeverRules);
  Config config = config_for(daemon_);
  config.sampling = Sampling::local_rules_file(rules.path());
  ConfigResult result = configure(recorder_, config);
  ASSERT_TRUE(result.ok()) << result.errors.front();
  ASSERT_NE(dynamic_cast<detail::LocalRulesSampling*>(sampler_of(recorder_).get()), nullptr);

  int sampled = 0;
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(begin_sampled(recorder_, path("/never/x"))) << i;
    EXPECT_FALSE(begin_sampled(recorder_, path("/NEVER/deeper/still"))) << i;
    EXPECT_TRUE(begin_sampled(recorder_, path("/orders/42"))) << i;
    EXPECT_TRUE(begin_sampled(recorder_, SamplingRequest{})) << i;
    sampled += 2;
  }
  // Only the sampled segments reach the daemon.
  ASSERT_TRUE(recorder_.flush(kWait));
  ASSERT_TRUE(daemon_.wait_for_documents(static_cast<std::size_t>(sampled), kWait));
  EXPECT_THAT(daemon_.documents(), SizeIs(static_cast<std::size_t>(sampled)));
}

TEST_F(SamplingConfigTest, ValidRulesJsonAndReconfiguration) {
  Config config = config_for(daemon_);
  config.sampling = Sampling::local_rules_json(kNeverRules);
  ASSERT_TRUE(configure(recorder_, config).ok());
  EXPECT_FALSE(begin_sampled(recorder_, path("/never/x")));

  // An upstream decision is obeyed without asking the rules.
  {
    SegmentScope segment = recorder_.begin_segment(
        "checkout", TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
        path("/never/x"));
    EXPECT_TRUE(segment.sampled());
  }

  // Back to sampling everything.
  config.sampling = false;
  ASSERT_TRUE(configure(recorder_, config).ok());
  EXPECT_EQ(sampler_of(recorder_), nullptr);
  EXPECT_TRUE(begin_sampled(recorder_, path("/never/x")));
  EXPECT_TRUE(recorder_.flush(kWait));
}

}  // namespace
}  // namespace xray

namespace xray {
namespace {

std::string strategy_of(Recorder& recorder) {
  return detail::RecorderAccess::core(recorder).settings()->sampler->describe();
}

TEST(SamplingChoiceTest, CentralizedByDefaultLocalOnlyOnRequestAndNeverInLambda) {
  testing::FakeDaemon daemon;
  Recorder recorder;
  Config config = testing::config_for(daemon);
  config.sampling = true;
  ASSERT_TRUE(testing::configure(recorder, config).ok());
  EXPECT_THAT(strategy_of(recorder), ::testing::HasSubstr("centralized"));

  config.sampling = Sampling::local_default();
  ASSERT_TRUE(testing::configure(recorder, config).ok());
  EXPECT_THAT(strategy_of(recorder), ::testing::Not(::testing::HasSubstr("centralized")));

  config.sampling = Sampling::local_rules_json(R"({"version":2,"default":{"fixed_target":0,"rate":0}})")
                        .with_centralized(true);
  ASSERT_TRUE(testing::configure(recorder, config).ok());
  EXPECT_THAT(strategy_of(recorder), ::testing::HasSubstr("centralized"));

  config.sampling = true;
  ASSERT_TRUE(testing::configure(recorder, config, {{"LAMBDA_TASK_ROOT", "/var/task"}}).ok());
  EXPECT_THAT(strategy_of(recorder), ::testing::Not(::testing::HasSubstr("centralized")));
}

TEST(SamplingChoiceTest, CentralizedRuleNameIsRecordedOnSampledSegments) {
  testing::FakeDaemon daemon;
  testing::FakeHttpServer proxy([](const testing::RecordedRequest& request) {
    if (request.target != "/GetSamplingRules") return testing::HttpReply(200, {}, "{}");
    return testing::HttpReply(200, {}, R"({"SamplingRuleRecords":[{"SamplingRule":{"RuleName":"orders-rule",
      "ResourceARN":"*","Priority":1,"FixedRate":1.0,"ReservoirSize":0,"ServiceName":"orders","ServiceType":"*",
      "Host":"*","HTTPMethod":"*","URLPath":"*","Version":1}}],"NextToken":null})");
  });
  Recorder recorder;
  Config config = testing::config_for(daemon, "orders");
  config.sampling = true;
  config.daemon_address = "udp:" + daemon.address() + " tcp:127.0.0.1:" + std::to_string(proxy.port());
  ASSERT_TRUE(testing::configure(recorder, config).ok());
  { auto first = recorder.begin_segment("orders"); }  // decided locally; starts the poller
  ASSERT_TRUE(proxy.wait_for_requests(1, std::chrono::seconds(5)));
  // The poller applies the rules right after the response: retry until they are in force.
  std::string rule;
  for (int i = 0; i < 500 && rule.empty(); ++i) {
    daemon.clear();
    { auto segment = recorder.begin_segment("orders"); }
    ASSERT_TRUE(recorder.flush(std::chrono::seconds(5)));
    if (daemon.wait_for_documents(1, std::chrono::milliseconds(200))) {
      auto documents = daemon.documents();
      rule = documents[0]["aws"]["xray"].value("sampling_rule_name", "");
    }
  }
  EXPECT_EQ(rule, "orders-rule");
}

}  // namespace
}  // namespace xray
