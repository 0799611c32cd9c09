// Test fixture: a CentralizedRuleCache driven directly against a FakeSamplingProxy, with no poller
// thread, time and draws injected, a log captured at debug level without rate limiting, and a
// fallback that counts its decisions (so tests see who decided).
//
//   class MyTest : public xray::testing::CentralizedCacheTest {};
//   TEST_F(MyTest, X) { proxy_.serve_rules(...); cache_->refresh_rules(now_); decide("/a"); }
//
// Thread safety: as the cache (decide may run on several threads).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "sampling/centralized_sampling.hpp"
#include "support/fake_sampling_proxy.hpp"
#include "support/test_recorder.hpp"

namespace xray::testing {

class CountingFallback final : public SamplingStrategy {
 public:
  SamplingDecision decide(const SamplingRequest&) noexcept override {
    ++calls;
    return {false, ""};
  }
  std::string describe() const override { return "counting fallback"; }
  std::atomic<int> calls{0};
};

class CentralizedCacheTest : public ::testing::Test {
 protected:
  CentralizedCacheTest() {
    logger_.set_sink(log_.sink());
    logger_.set_level(LogLevel::kDebug);
    logger_.set_rate_limit_interval(std::chrono::nanoseconds(0));
    detail::CentralizedOptions options;
    options.now = [this] { return now_.load(); };
    options.draw = [this] { return draw_.load(); };
    options.start_poller = false;
    cache_ = std::make_shared<detail::CentralizedRuleCache>(logger_, options);
    cache_->set_endpoint(proxy_.endpoint());
    fallback_ = std::make_shared<CountingFallback>();
    sampling_ = std::make_shared<detail::CentralizedSampling>(cache_, fallback_);
  }

  SamplingDecision decide(const char* path = "/") {
    SamplingRequest request;
    request.url_path = path;
    return sampling_->decide(request);
  }

  CapturedLog log_;
  detail::Logger logger_;
  FakeSamplingProxy proxy_;
  std::atomic<double> now_{1530923100.0};
  std::atomic<double> draw_{0.99};
  std::shared_ptr<detail::CentralizedRuleCache> cache_;
  std::shared_ptr<CountingFallback> fallback_;
  std::shared_ptr<detail::CentralizedSampling> sampling_;
};

}  // namespace xray::testing
