// The aws-sdk-cpp adapter's call records (integrations/awssdk/call_registry.hpp), without
// aws-sdk-cpp: the callbacks' sequences of both of its pipelines (legacy AWSClient: one
// OnRequestStarted without an invocation id, then OnRequestRetry per retry; Smithy: one
// OnRequestStarted per attempt with the same invocation id; both: one OnFinish), played with plain
// values, and the subsegments the fake daemon receives.
#include "awssdk/call_registry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "support/recorder_fixture.hpp"
#include "xray/errors.hpp"
#include "xray/trace_header.hpp"

namespace xray::aws_sdk::detail {
namespace {

using json = nlohmann::json;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const aws::CallIdentity kGetItem{"DynamoDB", "GetItem", ""};

// What a successful DynamoDB GetItem attempt sent and received.
Attempt get_item_attempt(int status = 200) {
  Attempt attempt;
  attempt.method = "POST";
  attempt.host = "dynamodb.eu-west-1.amazonaws.com";
  attempt.path = "/";
  attempt.request_headers = {{"content-type", "application/x-amz-json-1.0"},
                             {"x-amz-target", "DynamoDB_20120810.GetItem"}};
  attempt.request_body = R"({"TableName":"users","Key":{"id":{"S":"1"}}})";
  attempt.signing_region = "eu-west-1";
  attempt.status = status;
  attempt.response_headers = {{"x-amzn-requestid", "REQ1"}, {"content-length", "2"}};
  return attempt;
}

class CallRegistryTest : public testing::RecorderFixture {
 protected:
  // Every subsegment the daemon received (embedded or sent on its own) once `count` are there.
  std::vector<json> subsegments(std::size_t count) {
    EXPECT_TRUE(recorder_.flush(kWait));
    std::vector<json> found;
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    for (;;) {
      found.clear();
      for (const json& entity : testing::flatten(daemon_.documents())) {
        if (entity.value("namespace", "") == "aws") found.push_back(entity);
      }
      if (found.size() >= count || std::chrono::steady_clock::now() > deadline) return found;
      daemon_.wait_for_datagrams(daemon_.datagram_count() + 1, std::chrono::milliseconds(100));
    }
  }
};

TEST_F(CallRegistryTest, AStartWithTheInvocationIdOfALiveCallReentersItsRecord) {
  CallRegistry registry(&recorder_);
  {
    auto segment = recorder_.begin_segment("service");
    CallRecord* first = registry.start(kGetItem, "inv-1");
    ASSERT_NE(first, nullptr);
    first->last = get_item_attempt(500);
    registry.retry(first);
    CallRecord* second = registry.start(kGetItem, "inv-1");  // the Smithy client's next attempt
    EXPECT_EQ(second, first);
    EXPECT_EQ(registry.size(), 1u);
    second->last = get_item_attempt(200);
    registry.finish(second);
    EXPECT_EQ(registry.size(), 0u);
  }
  const json document = only_document();
  ASSERT_THAT(document["subsegments"], SizeIs(1));  // one call, one subsegment
  const json& call = document["subsegments"][0];
  EXPECT_EQ(call["name"], "DynamoDB");
  EXPECT_EQ(call["aws"]["retries"], 1);
  EXPECT_EQ(call["http"]["response"]["status"], 200);  // the last attempt's
  EXPECT_FALSE(call.contains("fault"));
}

TEST_F(CallRegistryTest, StartsWithoutAnInvocationIdAreDistinctCalls) {
  CallRegistry registry(&recorder_);
  {
    auto segment = recorder_.begin_segment("service");
    CallRecord* first = registry.start(kGetItem, "");  // the legacy AWSClient: no id yet
    CallRecord* second = registry.start(kGetItem, "");
    ASSERT_NE(first, nullptr);
    ASSERT_NE(second, nullptr);
    EXPECT_NE(first, second);
    EXPECT_EQ(registry.size(), 2u);
    first->last = get_item_attempt();
    second->last = get_item_attempt();
    registry.finish(first);
    registry.finish(second);
  }
  EXPECT_THAT(only_document()["subsegments"], SizeIs(2));
}

TEST_F(CallRegistryTest, RetriesAreCountedOnTheLegacyPath) {
  CallRegistry registry(&recorder_);
  {
    auto segment = recorder_.begin_segment("service");
    CallRecord* call = registry.start(kGetItem, "");
    ASSERT_NE(call, nullptr);
    for (int attempt = 0; attempt < 3; ++attempt) {
      call->last = get_item_attempt(attempt < 2 ? 503 : 200);
      if (attempt < 2) registry.retry(call);
    }
    registry.finish(call);
  }
  const json call = only_document()["subsegments"][0];
  EXPECT_EQ(call["aws"]["retries"], 2);
  EXPECT_EQ(call["aws"]["operation"], "GetItem");
  EXPECT_EQ(call["aws"]["region"], "eu-west-1");
  EXPECT_EQ(call["aws"]["table_name"], "users");
  EXPECT_EQ(call["aws"]["request_id"], "REQ1");
  EXPECT_EQ(call["http"]["response"], json({{"status", 200}, {"content_length", 2}}));
}

TEST_F(CallRegistryTest, FinishFreesTheRecordAndItsInvocationId) {
  CallRegistry registry(&recorder_);
  {
    auto segment = recorder_.begin_segment("service");
    CallRecord* call = registry.start(kGetItem, "inv-1");
    ASSERT_NE(call, nullptr);
    call->last = get_item_attempt();
    registry.finish(call);
    EXPECT_EQ(registry.size(), 0u);
    // The same id after the call finished is a call of its own.
    CallRecord* again = registry.start(kGetItem, "inv-1");
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(registry.size(), 1u);
    again->last = get_item_attempt();
    registry.finish(again);
    EXPECT_EQ(registry.size(), 0u);
  }
  EXPECT_THAT(only_document()["subsegments"], SizeIs(2));
}

TEST_F(CallRegistryTest, FinishIgnoresNullAndRecordsItDoesNotHold) {
  CallRegistry registry(&recorder_);
  CallRegistry other(&recorder_);
  auto segment = recorder_.begin_segment("service");
  CallRecord* call = registry.start(kGetItem, "inv-1");
  ASSERT_NE(call, nullptr);
  registry.finish(nullptr);
  registry.retry(nullptr);
  other.finish(call);
  EXPECT_EQ(registry.size(), 1u);
  registry.finish(call);
  EXPECT_EQ(registry.size(), 0u);
  registry.finish(call);  // twice: already gone, ignored
}

TEST_F(CallRegistryTest, TheTraceHeaderNamesTheCallsSubsegment) {
  CallRegistry registry(&recorder_);
  std::string trace_id;
  std::string header;
  {
    auto segment = recorder_.begin_segment("service");
    trace_id = segment.trace_id();
    CallRecord* call = registry.start(kGetItem, "inv-1");
    ASSERT_NE(call, nullptr);
    header = call->trace_header;
    registry.finish(call);
  }
  const json call = only_document()["subsegments"][0];
  const TraceHeader parsed = TraceHeader::parse(header);
  EXPECT_EQ(parsed.root(), trace_id);
  EXPECT_EQ(parsed.parent(), call["id"]);
  EXPECT_EQ(parsed.sampled(), TraceHeader::Sampled::kYes);
}

TEST_F(CallRegistryTest, TheRegionComesFromTheEndpointWhenTheRequestWasNotSigned) {
  CallRegistry registry(&recorder_);
  {
    auto segment = recorder_.begin_segment("service");
    CallRecord* call = registry.start({"S3", "GetObject", ""}, "");
    ASSERT_NE(call, nullptr);
    Attempt attempt;
    attempt.method = "GET";
    attempt.host = "public-data.s3.us-west-2.amazonaws.com";
    attempt.path = "/key.txt";
    attempt.status = 200;
    call->last = attempt;  // anonymous: no signing region
    registry.finish(call);
  }
  const json call = only_document()["subsegments"][0];
  EXPECT_EQ(call["name"], "S3");
  EXPECT_EQ(call["aws"]["region"], "us-west-2");
}

TEST_F(CallRegistryTest, AServiceErrorIsARemoteCause) {
  CallRegistry registry(&recorder_);
  {
    auto segment = recorder_.begin_segment("service");
    CallRecord* call = registry.start(kGetItem, "inv-1");
    ASSERT_NE(call, nullptr);
    Attempt attempt = get_item_attempt(400);
    attempt.error_code = "ResourceNotFoundException";
    attempt.error_message = "Requested resource not found";
    call->last = attempt;
    registry.finish(call);
  }
  const json call = only_document()["subsegments"][0];
  EXPECT_EQ(call["error"], true);
  EXPECT_FALSE(call.contains("fault"));
  ASSERT_THAT(call["cause"]["exceptions"], SizeIs(1));
  EXPECT_EQ(call["cause"]["exceptions"][0]["type"], "ResourceNotFoundException");
  EXPECT_EQ(call["cause"]["exceptions"][0]["remote"], true);
}

TEST_F(CallRegistryTest, AThrottlingErrorIsThrottle) {
  CallRegistry registry(&recorder_);
  {
    auto segment = recorder_.begin_segment("service");
    CallRecord* call = registry.start(kGetItem, "");
    ASSERT_NE(call, nullptr);
    Attempt attempt = get_item_attempt(400);
    attempt.error_code = "SomeNewLimitExceeded";
    attempt.throttling = true;  // AWSError::ShouldThrottle()
    call->last = attempt;
    registry.finish(call);
  }
  const json call = only_document()["subsegments"][0];
  EXPECT_EQ(call["throttle"], true);
  EXPECT_EQ(call["error"], true);
}

TEST_F(CallRegistryTest, NoResponseIsAFault) {
  CallRegistry registry(&recorder_);
  {
    auto segment = recorder_.begin_segment("service");
    CallRecord* call = registry.start(kGetItem, "");
    ASSERT_NE(call, nullptr);
    Attempt attempt = get_item_attempt(-1);  // aws-sdk-cpp's REQUEST_NOT_MADE
    attempt.response_headers.clear();
    call->last = attempt;
    registry.finish(call);
  }
  const json call = only_document()["subsegments"][0];
  EXPECT_EQ(call["fault"], true);
  EXPECT_FALSE(call.contains("http") && call["http"].contains("response"));
}

TEST_F(CallRegistryTest, XRaysOwnSamplingAndExportCallsAreNotTraced) {
  CallRegistry registry(&recorder_);
  auto segment = recorder_.begin_segment("service");
  for (const char* operation : {"GetSamplingRules", "GetSamplingTargets", "PutTraceSegments"}) {
    EXPECT_EQ(registry.start({"XRay", operation, ""}, "inv"), nullptr) << operation;
  }
  EXPECT_EQ(registry.size(), 0u);
  CallRecord* other = registry.start({"XRay", "GetTraceSummaries", ""}, "inv");
  EXPECT_NE(other, nullptr);
  registry.finish(other);
}

TEST_F(CallRegistryTest, WithoutAParentTheCallIsInertAndSendsNoHeader) {
  testing::CapturedLog log;
  Config config = testing::config_for(daemon_);
  config.log_sink = log.sink();
  ASSERT_TRUE(testing::configure(recorder_, config).ok());
  CallRegistry registry(&recorder_);
  CallRecord* call = registry.start(kGetItem, "inv-1");
  ASSERT_NE(call, nullptr);  // kept, so that the next attempts re-enter it
  EXPECT_FALSE(call->call.active());
  EXPECT_THAT(call->trace_header, IsEmpty());
  EXPECT_EQ(registry.start(kGetItem, "inv-1"), call);
  registry.finish(call);
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_TRUE(recorder_.flush(kWait));
  EXPECT_EQ(daemon_.datagram_count(), 0u);
  EXPECT_TRUE(log.contains("no segment or subsegment is current"));  // kLogError, the default
}

TEST_F(CallRegistryTest, UnderRuntimeErrorAMissingParentThrowsContextMissingError) {
  Config config = testing::config_for(daemon_);
  config.context_missing = ContextMissing::kRuntimeError;
  ASSERT_TRUE(testing::configure(recorder_, config).ok());
  CallRegistry registry(&recorder_);
  EXPECT_THROW(registry.start(kGetItem, "inv-1"), ContextMissingError);
  EXPECT_EQ(registry.size(), 0u);
}

TEST_F(CallRegistryTest, DestroyingTheRegistryEndsCallsThatNeverFinished) {
  {
    auto segment = recorder_.begin_segment("service");
    CallRegistry registry(&recorder_);
    ASSERT_NE(registry.start(kGetItem, "inv-1"), nullptr);  // no OnFinish will come
  }
  const json document = only_document();
  ASSERT_THAT(document["subsegments"], SizeIs(1));
  EXPECT_FALSE(document["subsegments"][0].contains("in_progress"));
}

// Calls from several threads at once, each playing the Smithy sequence (start per attempt with
// one invocation id, a retry in between) or the legacy one, under its own segment. Runs under
// TSan in CI.
TEST_F(CallRegistryTest, ConcurrentCallsFromSeveralThreads) {
  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 20;
  CallRegistry registry(&recorder_);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&registry, this, t] {
      auto segment = recorder_.begin_segment("service-" + std::to_string(t));
      for (int i = 0; i < kCallsPerThread; ++i) {
        const bool smithy = i % 2 == 0;
        const std::string id =
            smithy ? "inv-" + std::to_string(t) + "-" + std::to_string(i) : std::string();
        CallRecord* call = registry.start(kGetItem, id);
        ASSERT_NE(call, nullptr);
        call->last = get_item_attempt(503);
        registry.retry(call);
        if (smithy) {
          ASSERT_EQ(registry.start(kGetItem, id), call);
        }
        call->last = get_item_attempt(200);
        registry.finish(call);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(registry.size(), 0u);
  const std::vector<json> calls = subsegments(kThreads * kCallsPerThread);
  ASSERT_THAT(calls, SizeIs(kThreads * kCallsPerThread));
  for (const json& call : calls) {
    EXPECT_EQ(call["aws"]["retries"], 1);
    EXPECT_EQ(call["http"]["response"]["status"], 200);
  }
}

}  // namespace
}  // namespace xray::aws_sdk::detail
