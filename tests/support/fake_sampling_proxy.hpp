// Test fixture: the X-Ray daemon's TCP proxy for centralized sampling (GetSamplingRules,
// SamplingTargets) on 127.0.0.1:0, answering whatever the test sets, plus builders for rule pages.
//
//   FakeSamplingProxy proxy;
//   proxy.serve_rules(rules_page(nlohmann::json::array({sampling_rule("Default", 10000, 0.05, 1)})));
//   proxy.serve_rules([](const RecordedRequest&) { return HttpReply::trickle(1); });  // hostile
//   cache->set_endpoint(proxy.endpoint());
//   EXPECT_EQ(proxy.requests("/GetSamplingRules").size(), 1u);
//
// Until told otherwise it serves an empty rule page and an empty targets document.
// Thread safety: thread-safe; replies are produced on the server's thread.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "xray/daemon_address.hpp"
#include "support/fake_http_server.hpp"

namespace xray::testing {

// One SamplingRuleRecord, every matcher "*" except URLPath.
inline nlohmann::json sampling_rule(const std::string& name, int priority, double rate,
                                    int reservoir, const std::string& path = "*") {
  return {{"SamplingRule",
           {{"RuleName", name}, {"ResourceARN", "*"}, {"Priority", priority}, {"FixedRate", rate},
            {"ReservoirSize", reservoir}, {"ServiceName", "*"}, {"ServiceType", "*"},
            {"Host", "*"}, {"HTTPMethod", "*"}, {"URLPath", path}, {"Version", 1},
            {"Attributes", nlohmann::json::object()}}}};
}

// A GetSamplingRules response; `token` null ends the paging.
inline nlohmann::json rules_page(nlohmann::json records, const char* token = nullptr) {
  return {{"SamplingRuleRecords", std::move(records)},
          {"NextToken", token ? nlohmann::json(token) : nlohmann::json(nullptr)}};
}

class FakeSamplingProxy {
 public:
  using Reply = std::function<HttpReply(const RecordedRequest&)>;

  FakeSamplingProxy()
      : server_([this](const RecordedRequest& request) {
          Reply reply;
          {
            std::lock_guard<std::mutex> lock(mutex_);
            if (request.target == "/GetSamplingRules") reply = rules_reply_;
            if (request.target == "/SamplingTargets") reply = targets_reply_;
          }
          return reply ? reply(request) : HttpReply(404);
        }) {}

  void serve_rules(Reply reply) {
    std::lock_guard<std::mutex> lock(mutex_);
    rules_reply_ = std::move(reply);
  }
  void serve_rules(const nlohmann::json& body) {
    serve_rules([text = body.dump()](const RecordedRequest&) { return HttpReply(200, {}, text); });
  }
  void serve_targets(Reply reply) {
    std::lock_guard<std::mutex> lock(mutex_);
    targets_reply_ = std::move(reply);
  }
  void serve_targets(const nlohmann::json& body) {
    serve_targets([text = body.dump()](const RecordedRequest&) { return HttpReply(200, {}, text); });
  }
  // Every request to `target` received so far, in order.
  std::vector<RecordedRequest> requests(const std::string& target) const {
    std::vector<RecordedRequest> out;
    for (auto& r : server_.requests()) {
      if (r.target == target) out.push_back(r);
    }
    return out;
  }
  Endpoint endpoint() const { return {"127.0.0.1", server_.port()}; }
  std::uint16_t port() const noexcept { return server_.port(); }
  FakeHttpServer& server() { return server_; }

 private:
  mutable std::mutex mutex_;
  Reply rules_reply_ = [](const RecordedRequest&) {
    return HttpReply(200, {}, rules_page(nlohmann::json::array()).dump());
  };
  Reply targets_reply_ = [](const RecordedRequest&) { return HttpReply(200, {}, "{}"); };
  FakeHttpServer server_;  // last: its thread calls the handler above
};

}  // namespace xray::testing
