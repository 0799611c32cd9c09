// End to end: a custom-runtime loop (libcurl, as aws-lambda-cpp does it) against a fake Lambda
// Runtime API, each invocation traced by xray::lambda::Invocation (xray/lambda.hpp, spec §11), and
// a fake daemon that says what had arrived when each result was posted.
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/fake_daemon.hpp"
#include "support/fake_lambda_runtime.hpp"
#include "support/test_recorder.hpp"
#include "xray/lambda.hpp"

namespace xray {
namespace {

using json = nlohmann::json;

constexpr char kSampledRoot[] = "1-5759e988-bd862e3fe1be46a994272793";
constexpr char kSampledParent[] = "53995c3f42cd8ad8";
constexpr char kUnsampledRoot[] = "1-5759e989-0123456789abcdef01234567";
constexpr char kUnsampledParent[] = "1111111111111111";
constexpr char kFailingRoot[] = "1-5759e98a-fedcba9876543210fedcba98";
constexpr char kFailingParent[] = "2222222222222222";

std::string header(const char* root, const char* parent, int sampled) {
  return std::string("Root=") + root + ";Parent=" + parent + ";Sampled=" + std::to_string(sampled);
}

// What GET /next answered.
struct NextInvocation {
  std::string request_id;
  std::string trace_header;
  std::string function_arn;
  std::string payload;
  std::optional<std::chrono::system_clock::time_point> deadline;
};

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

std::size_t collect_header(char* data, std::size_t size, std::size_t count, void* out) {
  std::string line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  const std::size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    (*static_cast<std::vector<std::pair<std::string, std::string>>*>(out))
        .emplace_back(std::move(name), std::move(value));
  }
  return size * count;
}

// A minimal custom runtime: the three Runtime API calls, one libcurl handle, no retries.
class RuntimeClient {
 public:
  explicit RuntimeClient(std::string base_url)
      : base_url_(std::move(base_url)), easy_(curl_easy_init()) {}
  ~RuntimeClient() { curl_easy_cleanup(easy_); }
  RuntimeClient(const RuntimeClient&) = delete;
  RuntimeClient& operator=(const RuntimeClient&) = delete;

  std::optional<NextInvocation> next() {
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    curl_easy_reset(easy_);
    const std::string url = base_url_ + testing::FakeLambdaRuntime::kNextPath;
    curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, &headers);
    long status = 0;
    if (curl_easy_perform(easy_) != CURLE_OK) return std::nullopt;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) return std::nullopt;
    NextInvocation next;
    next.payload = body;
    for (const auto& [name, value] : headers) {
      if (name == "lambda-runtime-aws-request-id") next.request_id = value;
      if (name == "lambda-runtime-trace-id") next.trace_header = value;
      if (name == "lambda-runtime-invoked-function-arn") next.function_arn = value;
      if (name == "lambda-runtime-deadline-ms") {
        next.deadline = std::chrono::system_clock::time_point(
            std::chrono::milliseconds(std::strtoll(value.c_str(), nullptr, 10)));
      }
    }
    if (next.request_id.empty()) return std::nullopt;
    return next;
  }

  // POST .../{id}/response or .../{id}/error; true when the API answered 202.
  bool post(const std::string& request_id, bool error, const std::string& body) {
    std::string reply;
    curl_easy_reset(easy_);
    const std::string url = base_url_ + testing::FakeLambdaRuntime::kInvocationPrefix + request_id +
                            (error ? "/error" : "/response");
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, &reply);
    const CURLcode code = curl_easy_perform(easy_);
    curl_slist_free_all(headers);
    long status = 0;
    if (code == CURLE_OK) curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    return status == 202;
  }

 private:
  std::string base_url_;
  CURL* easy_;
};

class LambdaRuntimeApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Config config = testing::config_for(daemon_, "function");
    // Lambda mode from the environment, as on Lambda (passed explicitly: the process's is
    // untouched).
    ASSERT_TRUE(testing::configure(recorder_, config, {{"LAMBDA_TASK_ROOT", "/var/task"}}).ok());
  }
  void TearDown() override { EXPECT_THAT(daemon_.errors(), ::testing::IsEmpty()); }

  // One turn of the runtime loop: next, the handler inside an Invocation under a "function"
  // subsegment, then the response, or the error when the handler threw. False when there was no
  // invocation or the post was refused.
  bool run_one(RuntimeClient& client,
               const std::function<std::string(const std::string&)>& handler) {
    std::optional<NextInvocation> next = client.next();
    if (!next) return false;
    lambda::InvocationOptions options;
    options.recorder = &recorder_;
    options.request_id = next->request_id;
    options.function_arn = next->function_arn;
    options.deadline = next->deadline;
    std::string body;
    bool failed = false;
    {
      lambda::Invocation invocation(next->trace_header, options);
      auto function = recorder_.begin_subsegment("function");
      try {
        body = handler(next->payload);
      } catch (const std::exception& e) {
        function.add_exception(e);
        failed = true;
        body = json{{"errorMessage", e.what()}, {"errorType", "std::runtime_error"}}.dump();
      }
      function.end();
      EXPECT_TRUE(invocation.end());  // flushed: nothing may be queued once the result is posted
    }
    return client.post(next->request_id, failed, body);
  }

  testing::FakeDaemon daemon_;
  Recorder recorder_;
};

// The handler's work on the event: a subsegment with a nested one; throws when the event says so.
std::string handle_order(Recorder& recorder, const std::string& payload) {
  const json event = json::parse(payload);
  auto work = recorder.begin_subsegment("process-order");
  work.put_annotation("order_id", event.at("order_id").get<int>());
  {
    auto lookup = recorder.begin_subsegment("price-lookup");
    lookup.put_metadata("items", event.at("items"));
    if (event.value("fail", false)) throw std::runtime_error("price list unavailable");
  }
  return json{{"order_id", event["order_id"]}, {"status", "accepted"}}.dump();
}

std::vector<json> with_root(const std::vector<json>& documents, const std::string& root) {
  std::vector<json> out;
  for (const json& d : documents) {
    if (d.value("trace_id", "") == root) out.push_back(d);
  }
  return out;
}

void print(const char* title, const std::vector<json>& documents) {
  std::fprintf(stderr, "---- %s: %zu document(s) at the fake daemon\n", title, documents.size());
  for (const json& d : documents) std::fprintf(stderr, "%s\n", d.dump().c_str());
}

// The documents of one invocation form one tree under the facade: every one is a subsegment of
// `root`, the "function" subsegment's parent is the facade (`parent`), the others' parents are
// among the invocation's own subsegments. Returns the documents by name.
std::map<std::string, json> check_tree(const std::vector<json>& documents, const std::string& root,
                                       const std::string& parent) {
  std::set<std::string> ids;
  for (const json& d : documents) ids.insert(d.value("id", ""));
  std::map<std::string, json> by_name;
  for (const json& d : documents) {
    SCOPED_TRACE(d.dump());
    EXPECT_EQ(d.value("type", ""), "subsegment");
    EXPECT_EQ(d.value("trace_id", ""), root);
    EXPECT_FALSE(d.contains("in_progress"));
    if (d.value("name", "") == "function") {
      EXPECT_EQ(d.value("parent_id", ""), parent);
    } else {
      EXPECT_EQ(ids.count(d.value("parent_id", "")), 1u) << "parent is not in this invocation";
    }
    by_name[d.value("name", "")] = d;
  }
  return by_name;
}

TEST_F(LambdaRuntimeApiTest, EachResultIsPostedAfterItsSubsegmentsReachedTheDaemon) {
  const auto start = std::chrono::steady_clock::now();
  testing::FakeLambdaRuntime runtime(daemon_,
                                     {{"req-sampled", header(kSampledRoot, kSampledParent, 1),
                                       R"({"order_id":42,"items":["book","pen"]})"},
                                      {"req-unsampled", header(kUnsampledRoot, kUnsampledParent, 0),
                                       R"({"order_id":43,"items":["lamp"]})"},
                                      {"req-failing", header(kFailingRoot, kFailingParent, 1),
                                       R"({"order_id":44,"items":["desk"],"fail":true})"}});
  RuntimeClient client(runtime.base_url());
  const auto handler = [this](const std::string& payload) {
    return handle_order(recorder_, payload);
  };
  ASSERT_TRUE(run_one(client, handler));
  ASSERT_TRUE(run_one(client, handler));
  ASSERT_TRUE(run_one(client, handler));
  EXPECT_FALSE(client.next());  // no fourth invocation: the fake answers 500

  ASSERT_TRUE(runtime.wait_for_results(3, std::chrono::seconds(1)));
  const std::vector<testing::LambdaResult> results = runtime.results();
  ASSERT_EQ(results.size(), 3u);
  for (const auto& result : results) ASSERT_TRUE(result.daemon_synced) << result.request_id;

  // Sampled: all three subsegments were at the daemon when /response arrived.
  EXPECT_EQ(results[0].request_id, "req-sampled");
  EXPECT_FALSE(results[0].error);
  EXPECT_EQ(json::parse(results[0].body)["status"], "accepted");
  const std::vector<json> sampled = with_root(results[0].daemon_documents, kSampledRoot);
  print("sampled invocation (Sampled=1), at its /response", sampled);
  ASSERT_EQ(sampled.size(), 3u);
  auto tree = check_tree(sampled, kSampledRoot, kSampledParent);
  ASSERT_EQ(tree.count("function") + tree.count("process-order") + tree.count("price-lookup"), 3u);
  EXPECT_EQ(tree["process-order"]["parent_id"], tree["function"]["id"]);
  EXPECT_EQ(tree["price-lookup"]["parent_id"], tree["process-order"]["id"]);
  EXPECT_EQ(tree["process-order"]["annotations"]["order_id"], 42);
  EXPECT_EQ(tree["price-lookup"]["metadata"]["default"]["items"], json::array({"book", "pen"}));
  EXPECT_FALSE(tree["function"].contains("fault"));

  // Unsampled: nothing was sent, then or later.
  EXPECT_EQ(results[1].request_id, "req-unsampled");
  EXPECT_FALSE(results[1].error);
  print("unsampled invocation (Sampled=0), at its /response",
        with_root(results[1].daemon_documents, kUnsampledRoot));
  EXPECT_TRUE(with_root(results[1].daemon_documents, kUnsampledRoot).empty());
  EXPECT_EQ(results[1].daemon_documents.size(), 3u);  // only the first invocation's

  // The handler threw: the fault and its cause were at the daemon when /error arrived.
  EXPECT_EQ(results[2].request_id, "req-failing");
  EXPECT_TRUE(results[2].error);
  EXPECT_EQ(json::parse(results[2].body)["errorMessage"], "price list unavailable");
  const std::vector<json> failing = with_root(results[2].daemon_documents, kFailingRoot);
  print("failing invocation (Sampled=1, the handler threw), at its /error", failing);
  ASSERT_EQ(failing.size(), 3u);
  auto failed_tree = check_tree(failing, kFailingRoot, kFailingParent);
  ASSERT_EQ(failed_tree.count("function"), 1u);
  const json& failed = failed_tree["function"];
  EXPECT_EQ(failed.value("fault", false), true);
  ASSERT_TRUE(failed.contains("cause"));
  const json& exceptions = failed["cause"]["exceptions"];
  ASSERT_FALSE(exceptions.empty());
  EXPECT_EQ(exceptions[0]["message"], "price list unavailable");
  EXPECT_EQ(exceptions[0]["type"], "std::runtime_error");

  const auto all = daemon_.documents_received_by_now(std::chrono::seconds(1));
  ASSERT_TRUE(all.has_value());
  EXPECT_TRUE(with_root(*all, kUnsampledRoot).empty());
  EXPECT_EQ(all->size(), 6u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(LambdaRuntimeApiTest, AnInvocationWithoutTraceHeaderSendsNothing) {
  // Tracing disabled (or a local emulator): Lambda-Runtime-Trace-Id is absent.
  testing::FakeLambdaRuntime runtime(daemon_,
                                     {{"req-untraced", "", R"({"order_id":45,"items":[]})"}});
  RuntimeClient client(runtime.base_url());
  ASSERT_TRUE(run_one(
      client, [this](const std::string& payload) { return handle_order(recorder_, payload); }));
  ASSERT_TRUE(runtime.wait_for_results(1, std::chrono::seconds(1)));
  const auto results = runtime.results();
  ASSERT_TRUE(results[0].daemon_synced);
  EXPECT_TRUE(results[0].daemon_documents.empty());
}

}  // namespace
}  // namespace xray
