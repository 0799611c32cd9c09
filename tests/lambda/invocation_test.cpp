// Lambda invocations under the facade segment (xray/lambda.hpp, spec §11), against a fake daemon.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "context/context_stack.hpp"
#include "model/entity.hpp"
#include "support/fake_daemon.hpp"
#include "support/fake_sampling_proxy.hpp"
#include "support/test_recorder.hpp"
#include "xray/errors.hpp"
#include "xray/lambda.hpp"
#include "xray/plugin.hpp"
#include "xray/segment_scope.hpp"

namespace xray {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kRoot[] = "1-5759e988-bd862e3fe1be46a994272793";
constexpr char kFacade[] = "53995c3f42cd8ad8";
const std::string kSampled =
    std::string("Root=") + kRoot + ";Parent=" + kFacade + ";Sampled=1;Lineage=a87bd80c:1";

class LambdaInvocationTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(configure_lambda(ContextMissing::kLogError).ok()); }
  void TearDown() override { EXPECT_THAT(daemon_.errors(), IsEmpty()); }

  ConfigResult configure_lambda(ContextMissing missing, testing::EnvironmentMap env = {}) {
    Config config = testing::config_for(daemon_, "function");
    config.context_missing = missing;
    config.log_sink = [this](LogLevel, std::string_view line) {
      std::lock_guard<std::mutex> lock(log_mutex_);
      log_.emplace_back(line);
    };
    // Lambda mode from the environment, as on Lambda; _X_AMZN_TRACE_ID only where a test sets it.
    env.emplace("LAMBDA_TASK_ROOT", "/var/task");
    return testing::configure(recorder_, config, std::move(env));
  }
  lambda::InvocationOptions options() {
    lambda::InvocationOptions options;
    options.recorder = &recorder_;
    options.request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
    return options;
  }
  std::vector<std::string> log() {
    std::lock_guard<std::mutex> lock(log_mutex_);
    return log_;
  }
  // What the daemon has right now (after end() it must have everything: no waiting beyond a
  // moment for its reader thread).
  std::vector<json> received(std::size_t expected) {
    EXPECT_TRUE(daemon_.wait_for_documents(expected, std::chrono::milliseconds(500)));
    return daemon_.documents();
  }

  testing::FakeDaemon daemon_;
  Recorder recorder_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
};

TEST_F(LambdaInvocationTest, SampledSubsegmentsAreSentOnTheirOwnBeforeEndReturns) {
  std::string handler_id;
  std::string downstream;
  {
    lambda::Invocation invocation(kSampled, options());
    EXPECT_TRUE(invocation.sampled());
    EXPECT_EQ(current_context().entity_id(), kFacade);
    auto handler = recorder_.begin_subsegment("handler");
    handler_id = handler.id();
    handler.put_annotation("order", 42);
    {
      auto db = recorder_.begin_subsegment("db");
      downstream = db.outbound_header().to_string();
    }
    handler.end();
    EXPECT_TRUE(invocation.end());
    EXPECT_TRUE(current_context().empty());
    std::vector<json> documents = daemon_.documents();  // already there, or arriving this instant
    documents = received(2);
    ASSERT_EQ(documents.size(), 2u);
  }
  auto documents = daemon_.documents();
  const json& db = documents[0];
  const json& handler = documents[1];
  EXPECT_EQ(db["name"], "db");
  EXPECT_EQ(db["type"], "subsegment");
  EXPECT_EQ(db["trace_id"], kRoot);
  EXPECT_EQ(db["parent_id"], handler_id);
  EXPECT_EQ(handler["name"], "handler");
  EXPECT_EQ(handler["type"], "subsegment");
  EXPECT_EQ(handler["trace_id"], kRoot);
  EXPECT_EQ(handler["parent_id"], kFacade);
  EXPECT_EQ(handler["annotations"]["order"], 42);
  EXPECT_FALSE(handler.contains("subsegments"));  // db went out on its own, as soon as it ended
  EXPECT_THAT(downstream, HasSubstr(std::string("Root=") + kRoot));
  EXPECT_THAT(downstream, HasSubstr(";Sampled=1"));
  EXPECT_THAT(downstream, HasSubstr("Lineage=a87bd80c:1"));
  EXPECT_THAT(downstream, ::testing::Not(HasSubstr(kFacade)));  // Parent = the db subsegment
}

TEST_F(LambdaInvocationTest, UnsampledRecordsNothingAndSaysSoDownstream) {
  std::string downstream;
  {
    lambda::Invocation invocation(
        std::string("Root=") + kRoot + ";Parent=" + kFacade + ";Sampled=0", options());
    EXPECT_FALSE(invocation.sampled());
    auto handler = recorder_.begin_subsegment("handler");
    EXPECT_FALSE(handler.sampled());
    downstream = handler.outbound_header().to_string();
  }
  EXPECT_THAT(downstream, HasSubstr(std::string("Root=") + kRoot));
  EXPECT_THAT(downstream, HasSubstr("Sampled=0"));
  ASSERT_TRUE(recorder_.flush(std::chrono::seconds(1)));
  EXPECT_FALSE(daemon_.wait_for_documents(1, std::chrono::milliseconds(100)));
}

TEST_F(LambdaInvocationTest, HeaderWithoutParentOrSampledPassesThrough) {
  for (const std::string& header :
       {std::string("Root=") + kRoot + ";Lineage=a87bd80c:1",
        std::string("Root=") + kRoot + ";Parent=" + kFacade + ";Lineage=a87bd80c:1",
        std::string("Root=") + kRoot + ";Parent=" + kFacade + ";Sampled=?;Lineage=a87bd80c:1"}) {
    SCOPED_TRACE(header);
    lambda::Invocation invocation(header, options());
    EXPECT_FALSE(invocation.sampled());
    EXPECT_EQ(invocation.outbound_header().to_string(),
              std::string("Root=") + kRoot + ";Lineage=a87bd80c:1");
    auto handler = recorder_.begin_subsegment("handler");
    EXPECT_FALSE(handler.sampled());
    EXPECT_EQ(handler.outbound_header().to_string(),
              std::string("Root=") + kRoot + ";Lineage=a87bd80c:1");
  }
  ASSERT_TRUE(recorder_.flush(std::chrono::seconds(1)));
  EXPECT_FALSE(daemon_.wait_for_documents(1, std::chrono::milliseconds(100)));
}

TEST_F(LambdaInvocationTest, MissingOrInvalidHeaderAppliesContextMissing) {
  for (const char* header : {"", "Root=not-a-root;Parent=53995c3f42cd8ad8;Sampled=1", "garbage"}) {
    SCOPED_TRACE(header);
    lambda::Invocation invocation(header, options());
    EXPECT_TRUE(invocation.context().empty());
    EXPECT_TRUE(current_context().empty());
    auto handler = recorder_.begin_subsegment("handler");  // context missing: logged, inert
    EXPECT_FALSE(handler.active());
  }
  // The context-missing line is rate-limited: the first of the three is logged.
  EXPECT_THAT(log(), ::testing::Contains(HasSubstr("cannot trace a Lambda invocation (no trace header)")));

  ASSERT_TRUE(configure_lambda(ContextMissing::kRuntimeError).ok());
  EXPECT_THROW(lambda::Invocation("", options()), ContextMissingError);
}

TEST_F(LambdaInvocationTest, EmptyHeaderFallsBackToTheEnvironment) {
  ASSERT_TRUE(configure_lambda(ContextMissing::kLogError, {{"_X_AMZN_TRACE_ID", kSampled}}).ok());
  {
    lambda::Invocation invocation("", options());
    EXPECT_EQ(current_context().entity_id(), kFacade);
    { auto work = recorder_.begin_subsegment("work"); }
  }
  auto documents = received(1);
  ASSERT_EQ(documents.size(), 1u);
  EXPECT_EQ(documents[0]["parent_id"], kFacade);
}

// The public API never hands out a scope on the facade; a scope reaching it anyway (here through
// the internals, as a future accessor might) finds it read-only.
class FacadeHandle : public SegmentScope {
 public:
  explicit FacadeHandle(const Context& context) {
    entity_ = detail::ContextAccess::entity(context);
  }
};

TEST_F(LambdaInvocationTest, TheFacadeIsReadOnly) {
  {
    lambda::Invocation invocation(kSampled, options());
    const std::shared_ptr<detail::Entity> facade = detail::ContextAccess::entity(invocation.context());
    ASSERT_NE(facade, nullptr);
    {
      FacadeHandle handle(invocation.context());
      handle.put_annotation("order", 42);
      handle.put_annotation("state", "paid");
      handle.put_metadata("items", json::array({"book"}));
      HttpRequestInfo request;
      request.method = "GET";
      request.url = "https://example.com/";
      handle.set_http_request(std::move(request));
      handle.set_http_status(500);
      handle.set_user("alice");
      handle.set_aws("operation", "Invoke");
      handle.set_error();
      handle.add_exception("Boom", "refused");
      handle.end();
    }
    EXPECT_TRUE(facade->annotations.empty());
    EXPECT_TRUE(facade->metadata.empty());
    EXPECT_FALSE(facade->http);
    EXPECT_TRUE(facade->user.empty());
    EXPECT_TRUE(facade->aws.is_null());
    EXPECT_FALSE(facade->error || facade->fault || facade->throttle);
    auto work = recorder_.begin_subsegment("work");
    EXPECT_TRUE(work.active());
  }
  const std::vector<json> documents = received(1);
  ASSERT_EQ(documents.size(), 1u);  // the subsegment only: the facade is never sent
  EXPECT_EQ(documents[0]["name"], "work");
  EXPECT_EQ(documents[0]["parent_id"], kFacade);
  EXPECT_FALSE(documents[0].contains("annotations"));
  std::size_t refusals = 0;
  for (const std::string& line : log()) {
    if (line.find("Lambda facade segment") != std::string::npos) ++refusals;
  }
  EXPECT_GE(refusals, 1u);  // rate-limited: one line for the burst, not one per call
  EXPECT_LT(refusals, 9u);
}

TEST_F(LambdaInvocationTest, SegmentsAreRefusedWithAWarningNotAThrow) {
  lambda::Invocation invocation(kSampled, options());
  auto segment = recorder_.begin_segment("my-own-segment");
  EXPECT_FALSE(segment.active());
  EXPECT_EQ(current_context().entity_id(), kFacade);  // the facade is still current
  EXPECT_THAT(log(), ::testing::Contains(HasSubstr("cannot begin a segment in AWS Lambda")));
}

TEST_F(LambdaInvocationTest, ConsecutiveInvocationsDoNotLeakIntoEachOther) {
  const std::string second_root = "1-5759e988-00000000000000000000000b";
  const std::string second = "Root=" + second_root + ";Parent=1111111111111111;Sampled=1";
  std::optional<SubsegmentScope> straggler;
  {
    lambda::Invocation first(kSampled, options());
    straggler.emplace(recorder_.start_subsegment("background", first.context()));
  }
  // The first invocation ended with "background" open: it went out in_progress.
  auto documents = received(1);
  ASSERT_EQ(documents.size(), 1u);
  EXPECT_EQ(documents[0]["name"], "background");
  EXPECT_EQ(documents[0]["in_progress"], true);
  {
    lambda::Invocation next(second, options());
    EXPECT_EQ(current_context().entity_id(), "1111111111111111");
    { auto work = recorder_.begin_subsegment("work"); }
    straggler.reset();  // ends during the second invocation: still the first one's
  }
  documents = received(3);
  ASSERT_EQ(documents.size(), 3u);
  for (std::size_t i = 1; i < 3; ++i) {
    const json& d = documents[i];
    if (d["name"] == "work") {
      EXPECT_EQ(d["trace_id"], second_root);
      EXPECT_EQ(d["parent_id"], "1111111111111111");
    } else {
      EXPECT_EQ(d["name"], "background");
      EXPECT_EQ(d["trace_id"], kRoot);
      EXPECT_EQ(d["parent_id"], kFacade);
      EXPECT_FALSE(d.contains("in_progress"));
      EXPECT_EQ(d["id"], documents[0]["id"]);
    }
  }
}

TEST_F(LambdaInvocationTest, SubsegmentsFromSeveralThreadsAreAllFlushed) {
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  {
    lambda::Invocation invocation(kSampled, options());
    std::vector<std::thread> workers;
    for (int t = 0; t < kThreads; ++t) {
      workers.emplace_back([this, context = invocation.context(), t] {
        ContextScope attach(context);
        for (int i = 0; i < kEach; ++i) {
          auto work = recorder_.begin_subsegment("worker-" + std::to_string(t));
          work.put_annotation("i", i);
        }
      });
    }
    for (auto& worker : workers) worker.join();
  }
  auto documents = received(kThreads * kEach);
  ASSERT_EQ(documents.size(), static_cast<std::size_t>(kThreads * kEach));
  for (const json& d : documents) {
    EXPECT_EQ(d["parent_id"], kFacade);
    EXPECT_EQ(d["trace_id"], kRoot);
  }
}

TEST_F(LambdaInvocationTest, DeadlineBoundsTheFlush) {
  lambda::InvocationOptions late = options();
  late.deadline = std::chrono::system_clock::now() - std::chrono::seconds(1);  // already past
  lambda::Invocation invocation(kSampled, late);
  { auto work = recorder_.begin_subsegment("work"); }
  const auto start = std::chrono::steady_clock::now();
  invocation.end();
  // A zero budget: end() does not wait (what was queued still goes out).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_EQ(received(1).size(), 1u);
}

TEST(LambdaModeTest, ConfiguredInCodeCreatesTheInitializedMarker) {
  testing::FakeDaemon daemon;
  Recorder recorder;
  Config config = testing::config_for(daemon, "function");
  config.lambda = true;
  ASSERT_TRUE(testing::configure(recorder, config).ok());
  EXPECT_EQ(::access("/tmp/.aws-xray/initialized", F_OK), 0);
  EXPECT_FALSE(recorder.begin_segment("refused").active());
  config.lambda = false;  // code wins over the environment
  ASSERT_TRUE(testing::configure(recorder, config, {{"LAMBDA_TASK_ROOT", "/var/task"}}).ok());
  EXPECT_TRUE(recorder.begin_segment("allowed").active());
}

// Counts its detections; finds nothing.
class CountingPlugin final : public Plugin {
 public:
  std::string_view name() const noexcept override { return "counting"; }
  std::optional<PluginMetadata> detect(std::chrono::steady_clock::time_point) const override {
    detections.fetch_add(1);
    return std::nullopt;
  }
  mutable std::atomic<int> detections{0};
};

TEST(LambdaModeTest, RunsNoPluginNoPollerAndSendsNothingBeforeAnInvocation) {
  testing::FakeDaemon daemon;
  testing::FakeSamplingProxy proxy;
  proxy.serve_rules(testing::rules_page(json::array()));
  auto plugin = std::make_shared<CountingPlugin>();
  Recorder recorder;
  Config config = testing::config_for(daemon, "function");
  // Outside Lambda this address and the default sampling would poll the proxy, and the plugin run.
  config.daemon_address = "udp:" + daemon.address() + " tcp:127.0.0.1:" + std::to_string(proxy.port());
  config.plugins = {plugin};
  ASSERT_TRUE(testing::configure(recorder, config, {{"LAMBDA_TASK_ROOT", "/var/task"}}).ok());
  EXPECT_FALSE(recorder.begin_segment("refused").active());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(daemon.datagram_count(), 0u);  // nothing before the first invocation

  lambda::InvocationOptions options;
  options.recorder = &recorder;
  {
    lambda::Invocation invocation(kSampled, options);
    auto work = recorder.begin_subsegment("work");
  }
  ASSERT_TRUE(daemon.wait_for_documents(1, std::chrono::seconds(5)));
  EXPECT_EQ(daemon.documents()[0]["name"], "work");
  EXPECT_EQ(plugin->detections.load(), 0);
  EXPECT_THAT(proxy.requests("/GetSamplingRules"), IsEmpty());
  EXPECT_THAT(proxy.requests("/SamplingTargets"), IsEmpty());
}

}  // namespace
}  // namespace xray
