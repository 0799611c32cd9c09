// Test fixture: dynalite (npm, tests/dynalite/) as a real DynamoDB on 127.0.0.1 with an ephemeral
// port, started by the test and stopped by PID (SIGTERM, then waitpid). The wrapper
// tests/dynalite/server.js reports every request it served: its X-Amz-Target, whether its SigV4
// signature verifies with kSecretKey, and its X-Amzn-Trace-Id.
//
//   if (auto missing = Dynalite::missing()) GTEST_SKIP() << *missing;
//   Dynalite dynamodb;
//   ... call "http://127.0.0.1:" + std::to_string(dynamodb.port()) ...
//   auto seen = dynamodb.wait_for_request("DynamoDB_20120810.GetItem");
//
// Thread safety: thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace xray::testing {

struct DynaliteRequest {
  std::string target;  // X-Amz-Target, "-" when absent
  std::string sigv4;   // "ok", "bad" or "none"
  std::string trace;   // X-Amzn-Trace-Id, "-" when absent
};

class Dynalite {
 public:
  static constexpr const char* kAccessKey = "AKIDXRAYTEST";
  static constexpr const char* kSecretKey = "xray-test-secret";

  // Why dynalite cannot run here (node or tests/dynalite/node_modules missing), or nullopt.
  // With XRAY_REQUIRE_DYNALITE=1 in the environment (CI) a missing dynalite is a test failure:
  // use require_or_skip().
  static std::optional<std::string> missing();

  Dynalite();  // starts it and waits (10 s at most) for its port; port() is 0 if it failed
  ~Dynalite();
  Dynalite(const Dynalite&) = delete;
  Dynalite& operator=(const Dynalite&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  // The first not yet returned request with this X-Amz-Target, waiting up to `timeout`.
  std::optional<DynaliteRequest> wait_for_request(
      const std::string& target, std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  void read_output(int fd);

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int port_ = 0;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<DynaliteRequest> requests_;
  std::vector<bool> taken_;
  bool started_ = false;
};

}  // namespace xray::testing

// In a test body: skips (or, under XRAY_REQUIRE_DYNALITE=1, fails) when dynalite is missing.
#define XRAY_REQUIRE_DYNALITE()                                            \
  do {                                                                     \
    if (auto why = ::xray::testing::Dynalite::missing()) {                 \
      if (std::getenv("XRAY_REQUIRE_DYNALITE") != nullptr) FAIL() << *why; \
      GTEST_SKIP() << *why;                                                \
    }                                                                      \
  } while (false)
