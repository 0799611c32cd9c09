#include "sampling/default_sampling.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace xray::detail {
namespace {

constexpr std::int64_t kEpoch = 1'700'000'000;

// A settable clock shared by value with the strategy.
struct FakeSeconds {
  std::shared_ptr<std::atomic<std::int64_t>> now =
      std::make_shared<std::atomic<std::int64_t>>(kEpoch);
  FixedRateSampling::SecondsClock clock() const {
    auto shared = now;
    return [shared] { return shared->load(std::memory_order_relaxed); };
  }
  void advance() const { now->fetch_add(1, std::memory_order_relaxed); }
};

FixedRateSampling::Draw constant_draw(double value) {
  return [value] { return value; };
}

bool sampled(FixedRateSampling& strategy) { return strategy.decide(SamplingRequest{}).sampled; }

// Envoy: fixed_target 1, rate 0.5, draw 0.9 → the first request of a second sampled, the next 10 not.
TEST(FixedRateSampling, EnvoyReservoirThenRateMiss) {
  FakeSeconds seconds;
  FixedRateSampling strategy(1, 0.5, seconds.clock(), constant_draw(0.9));
  EXPECT_TRUE(sampled(strategy));
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(sampled(strategy)) << i;
  // The next second gets a new reservoir.
  seconds.advance();
  EXPECT_TRUE(sampled(strategy));
  EXPECT_FALSE(sampled(strategy));
}

// Envoy: rate 0.1, draw 0.01 → 10 of 10 sampled, with an empty reservoir.
TEST(FixedRateSampling, EnvoyRateHit) {
  FakeSeconds seconds;
  FixedRateSampling strategy(0, 0.1, seconds.clock(), constant_draw(0.01));
  int count = 0;
  for (int i = 0; i < 10; ++i) count += sampled(strategy) ? 1 : 0;
  EXPECT_EQ(count, 10);
}

TEST(FixedRateSampling, ZeroZeroNeverSamples) {
  FakeSeconds seconds;
  FixedRateSampling strategy(0, 0.0, seconds.clock(), constant_draw(0.0));
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(sampled(strategy));
    if (i % 10 == 0) seconds.advance();
  }
}

TEST(FixedRateSampling, RateOneAlwaysSamples) {
  FakeSeconds seconds;
  FixedRateSampling strategy(0, 1.0, seconds.clock(), constant_draw(0.999999));
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(sampled(strategy));
}

TEST(FixedRateSampling, DrawEqualToRateIsNotSampled) {
  // Sampled iff draw < rate.
  FakeSeconds seconds;
  FixedRateSampling strategy(0, 0.25, seconds.clock(), constant_draw(0.25));
  EXPECT_FALSE(sampled(strategy));
}

TEST(FixedRateSampling, ReservoirDoesNotConsumeDraws) {
  FakeSeconds seconds;
  int draws = 0;
  FixedRateSampling strategy(2, 0.5, seconds.clock(), [&draws] {
    ++draws;
    return 0.9;
  });
  EXPECT_TRUE(sampled(strategy));
  EXPECT_TRUE(sampled(strategy));
  EXPECT_EQ(draws, 0);
  EXPECT_FALSE(sampled(strategy));
  EXPECT_EQ(draws, 1);
}

TEST(FixedRateSampling, DecisionHasNoRuleName) {
  FakeSeconds seconds;
  FixedRateSampling strategy(1, 0.05, seconds.clock(), constant_draw(0.5));
  EXPECT_TRUE(strategy.decide(SamplingRequest{}).rule_name.empty());
}

TEST(FixedRateSampling, DefaultRuleStatistics) {
  constexpr int kDecisions = 100'000;
  constexpr int kPerSecond = 100;
  constexpr double kRate = 0.05;
  FakeSeconds seconds;
  auto engine = std::make_shared<std::mt19937_64>(20240601);
  FixedRateSampling strategy(1, kRate, seconds.clock(), [engine] {
    return static_cast<double>((*engine)() >> 11) * 0x1.0p-53;
  });
  int count = 0;
  for (int i = 0; i < kDecisions; ++i) {
    if (i > 0 && i % kPerSecond == 0) seconds.advance();
    count += sampled(strategy) ? 1 : 0;
  }
  const double n_seconds = kDecisions / kPerSecond;
  const double n_rate = kDecisions - n_seconds;  // decisions left to the rate
  const double expected = n_seconds + n_rate * kRate;
  const double sigma = std::sqrt(n_rate * kRate * (1 - kRate));
  EXPECT_NEAR(count, expected, 5 * sigma) << "expected ~" << expected << ", sigma " << sigma;
}

TEST(FixedRateSampling, ConcurrentDecisionsRespectReservoir) {
  constexpr int kThreads = 8;
  FakeSeconds seconds;
  FixedRateSampling strategy(100, 0.0, seconds.clock(), constant_draw(0.5));
  std::atomic<int> count{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (strategy.decide(SamplingRequest{}).sampled) count.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(count.load(), 100);
}

TEST(FixedRateSampling, RealClockAndDrawWork) {
  // Without injected clock and draw: a fresh reservoir always grants the first decision.
  FixedRateSampling strategy(1, 0.0);
  EXPECT_TRUE(sampled(strategy));
  FixedRateSampling never(0, 0.0);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(sampled(never));
  FixedRateSampling always(0, 1.0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(sampled(always));
}

TEST(FixedRateSampling, DescribeMentionsTargetAndRate) {
  FixedRateSampling strategy(3, 0.25);
  std::string text = strategy.describe();
  EXPECT_NE(text.find("3"), std::string::npos) << text;
  EXPECT_NE(text.find("0.25"), std::string::npos) << text;
}

TEST(UniformDraw, InUnitIntervalWithMeanOneHalf) {
  constexpr int kDraws = 100'000;
  double sum = 0;
  for (int i = 0; i < kDraws; ++i) {
    double value = uniform_draw();
    ASSERT_GE(value, 0.0);
    ASSERT_LT(value, 1.0);
    sum += value;
  }
  EXPECT_NEAR(sum / kDraws, 0.5, 0.01);
}

TEST(UniformDraw, NotConstant) {
  double first = uniform_draw();
  bool differs = false;
  for (int i = 0; i < 10 && !differs; ++i) differs = uniform_draw() != first;
  EXPECT_TRUE(differs);
}

TEST(UniformDraw, ConcurrentThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> out_of_range{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) {
        double value = uniform_draw();
        if (!(value >= 0.0 && value < 1.0)) out_of_range.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(out_of_range.load(), 0);
}

TEST(MakeDefaultSampling, NonNullAndDescribesRate) {
  std::shared_ptr<SamplingStrategy> strategy = make_default_sampling();
  ASSERT_NE(strategy, nullptr);
  std::string text = strategy->describe();
  EXPECT_NE(text.find("0.05"), std::string::npos) << text;
  EXPECT_NE(text.find("1"), std::string::npos) << text;
}

TEST(MakeDefaultSampling, CustomValues) {
  auto strategy = make_default_sampling(0, 0.0);
  ASSERT_NE(strategy, nullptr);
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(strategy->decide(SamplingRequest{}).sampled);
  auto all = make_default_sampling(0, 1.0);
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(all->decide(SamplingRequest{}).sampled);
}

}  // namespace
}  // namespace xray::detail
