// examples/lambda's bootstrap (aws-lambda-cpp + xray/lambda_runtime.hpp), run as Lambda runs it:
// a process polling the Runtime API (here the fake one) and sending to the daemon (the fake one).
// Skipped, saying what is missing, where the example is not built (no aws-lambda-cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <string>
#include <vector>

#include "support/fake_daemon.hpp"
#include "support/fake_lambda_runtime.hpp"

#ifndef XRAY_TEST_LAMBDA_BOOTSTRAP
#define XRAY_TEST_LAMBDA_BOOTSTRAP ""
#endif

namespace xray {
namespace {

using json = nlohmann::json;

constexpr char kRoot[] = "1-5759e988-bd862e3fe1be46a994272793";
constexpr char kParent[] = "53995c3f42cd8ad8";
constexpr char kFailingRoot[] = "1-5759e98a-fedcba9876543210fedcba98";
constexpr char kFailingParent[] = "2222222222222222";
constexpr char kFunctionName[] = "xray-example-test";

std::map<std::string, json> by_name(const std::vector<json>& documents, const std::string& root) {
  std::map<std::string, json> out;
  for (const json& d : documents) {
    if (d.value("trace_id", "") == root) out[d.value("name", "")] = d;
  }
  return out;
}

// Starts `path` with exactly `env` as its environment; returns its pid, or -1.
pid_t spawn(const std::string& path, const std::vector<std::string>& env) {
  std::vector<char*> argv = {const_cast<char*>(path.c_str()), nullptr};
  std::vector<char*> envp;
  for (const std::string& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  return ::posix_spawn(&pid, path.c_str(), nullptr, nullptr, argv.data(), envp.data()) == 0 ? pid
                                                                                            : -1;
}

// Waits for `pid` to exit (at most `timeout`, then kills it). Returns its exit status, or -1.
int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  auto exited = std::async(std::launch::async, [pid] {
    int status = 0;
    return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  });
  if (exited.wait_for(timeout) == std::future_status::ready) return exited.get();
  ::kill(pid, SIGKILL);
  exited.get();
  return -1;
}

TEST(LambdaExampleTest, BootstrapSendsEachInvocationsSubsegmentsBeforePostingItsResult) {
  const std::string bootstrap = XRAY_TEST_LAMBDA_BOOTSTRAP;
  if (bootstrap.empty()) {
    GTEST_SKIP() << "examples/lambda (bootstrap) is not built: it needs aws-lambda-cpp, which "
                    "find_package(aws-lambda-runtime) did not find (configure with "
                    "-DCMAKE_PREFIX_PATH=<its install prefix>), XRAY_WITH_CURL=ON and "
                    "XRAY_BUILD_EXAMPLES=ON";
  }
  testing::FakeDaemon daemon;
  testing::FakeLambdaRuntime runtime(
      daemon, {{"req-order", std::string("Root=") + kRoot + ";Parent=" + kParent + ";Sampled=1",
                R"({"order_id":42,"items":["book","pen"]})"},
               {"req-invalid",
                std::string("Root=") + kFailingRoot + ";Parent=" + kFailingParent + ";Sampled=1",
                R"({"items":[]})"}});
  const std::string task_root = bootstrap.substr(0, bootstrap.rfind('/'));
  // DOWNSTREAM_URL turns on the example's optional call; the fake answers it 404.
  const std::vector<std::string> env = {
      "AWS_LAMBDA_RUNTIME_API=" + runtime.address(), "AWS_XRAY_DAEMON_ADDRESS=" + daemon.address(),
      "LAMBDA_TASK_ROOT=" + task_root, std::string("AWS_LAMBDA_FUNCTION_NAME=") + kFunctionName,
      "DOWNSTREAM_URL=" + runtime.base_url() + "/downstream"};
  const pid_t pid = spawn(bootstrap, env);
  ASSERT_GT(pid, 0) << "cannot start " << bootstrap;
  const bool posted = runtime.wait_for_results(2, std::chrono::seconds(10));
  // With no invocation left the fake answers 500; run_handler gives up after three and returns.
  EXPECT_EQ(wait_exit(pid, std::chrono::seconds(10)), 0);
  ASSERT_TRUE(posted) << runtime.results().size() << " result(s) posted";

  const auto results = runtime.results();
  ASSERT_EQ(results.size(), 2u);
  ASSERT_TRUE(results[0].daemon_synced);
  ASSERT_TRUE(results[1].daemon_synced);

  EXPECT_EQ(results[0].request_id, "req-order");
  EXPECT_FALSE(results[0].error);
  EXPECT_EQ(json::parse(results[0].body)["status"], "accepted");
  for (const json& d : results[0].daemon_documents) std::fprintf(stderr, "%s\n", d.dump().c_str());
  auto order = by_name(results[0].daemon_documents, kRoot);
  ASSERT_EQ(order.size(), 3u);  // the function's subsegment, the handler's work, the call
  ASSERT_EQ(order.count(kFunctionName), 1u);
  ASSERT_EQ(order.count("process-order"), 1u);
  ASSERT_EQ(order.count("127.0.0.1"), 1u);
  EXPECT_EQ(order[kFunctionName]["type"], "subsegment");
  EXPECT_EQ(order[kFunctionName]["parent_id"], kParent);
  EXPECT_EQ(order["process-order"]["type"], "subsegment");
  EXPECT_EQ(order["process-order"]["parent_id"], order[kFunctionName]["id"]);
  EXPECT_EQ(order["process-order"]["annotations"]["order_id"], 42);
  const json& call = order["127.0.0.1"];
  EXPECT_EQ(call["parent_id"], order["process-order"]["id"]);
  EXPECT_EQ(call["namespace"], "remote");
  EXPECT_EQ(call["http"]["response"]["status"], 404);
  EXPECT_EQ(json::parse(results[0].body)["downstream_status"], 404);
  std::string downstream_header;
  for (const auto& request : runtime.requests()) {
    if (request.target == "/downstream") downstream_header = request.header("X-Amzn-Trace-Id");
  }
  EXPECT_EQ(downstream_header, std::string("Root=") + kRoot +
                                   ";Parent=" + call["id"].get<std::string>() + ";Sampled=1");

  EXPECT_EQ(results[1].request_id, "req-invalid");
  EXPECT_TRUE(results[1].error);
  EXPECT_EQ(json::parse(results[1].body)["errorType"], "InvalidOrder");
  for (const json& d : results[1].daemon_documents) {
    if (d.value("trace_id", "") == kFailingRoot) std::fprintf(stderr, "%s\n", d.dump().c_str());
  }
  auto invalid = by_name(results[1].daemon_documents, kFailingRoot);
  ASSERT_EQ(invalid.size(), 1u);
  const json& function = invalid[kFunctionName];
  EXPECT_EQ(function["parent_id"], kFailingParent);
  EXPECT_EQ(function.value("fault", false), true);
  ASSERT_TRUE(function.contains("cause"));
  EXPECT_EQ(function["cause"]["exceptions"][0]["type"], "InvalidOrder");
  EXPECT_EQ(function["cause"]["exceptions"][0]["message"], "the event has no integer order_id");
  EXPECT_THAT(daemon.errors(), ::testing::IsEmpty());
}

}  // namespace
}  // namespace xray
