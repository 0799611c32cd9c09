#include "sampling/reservoir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace xray::detail {
namespace {

constexpr std::int64_t kEpoch = 1'700'000'000;  // an arbitrary wall-clock second

TEST(Reservoir, TargetOneTakesOncePerSecond) {
  Reservoir reservoir(1);
  EXPECT_TRUE(reservoir.take(100));
  EXPECT_FALSE(reservoir.take(100));
  EXPECT_FALSE(reservoir.take(100));
  EXPECT_TRUE(reservoir.take(101));
  EXPECT_FALSE(reservoir.take(101));
}

TEST(Reservoir, TargetZeroNeverTakes) {
  Reservoir reservoir(0);
  for (std::int64_t second = 0; second < 50; ++second) {
    EXPECT_FALSE(reservoir.take(second));
    EXPECT_FALSE(reservoir.take(kEpoch + second));
  }
}

TEST(Reservoir, TargetFiveTakesExactlyFivePerSecond) {
  Reservoir reservoir(5);
  for (std::int64_t second = kEpoch; second < kEpoch + 20; ++second) {
    int taken = 0;
    for (int i = 0; i < 50; ++i) taken += reservoir.take(second) ? 1 : 0;
    EXPECT_EQ(taken, 5) << "second " << second;
  }
}

TEST(Reservoir, FirstSecondZeroIsUsable) {
  // The initial state must not look like "second 0 already spent".
  Reservoir reservoir(2);
  EXPECT_TRUE(reservoir.take(0));
  EXPECT_TRUE(reservoir.take(0));
  EXPECT_FALSE(reservoir.take(0));
}

TEST(Reservoir, NewSecondResetsEvenIfPreviousWasNotSpent) {
  Reservoir reservoir(3);
  EXPECT_TRUE(reservoir.take(kEpoch));
  EXPECT_TRUE(reservoir.take(kEpoch + 1));
  EXPECT_TRUE(reservoir.take(kEpoch + 1));
  EXPECT_TRUE(reservoir.take(kEpoch + 1));
  EXPECT_FALSE(reservoir.take(kEpoch + 1));
}

TEST(Reservoir, ClockGoingBackwardsIsAnotherSecond) {
  // The reservoir only compares seconds for equality: a step back gets a fresh budget, and never
  // more than `fixed_target` in a row for the same second.
  Reservoir reservoir(1);
  EXPECT_TRUE(reservoir.take(kEpoch + 5));
  EXPECT_FALSE(reservoir.take(kEpoch + 5));
  EXPECT_TRUE(reservoir.take(kEpoch + 4));
  EXPECT_FALSE(reservoir.take(kEpoch + 4));
}

TEST(Reservoir, LargeTarget) {
  Reservoir reservoir(100'000);
  int taken = 0;
  for (int i = 0; i < 100'001; ++i) taken += reservoir.take(kEpoch) ? 1 : 0;
  EXPECT_EQ(taken, 100'000);
  EXPECT_TRUE(reservoir.take(kEpoch + 1));
}

TEST(ReservoirConcurrency, ExactlyTargetSuccessesAcrossThreads) {
  constexpr int kThreads = 8;
  constexpr int kAttemptsPerThread = 1000;  // 8000 attempts for a target of 1000
  Reservoir reservoir(1000);
  std::atomic<int> successes{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      int mine = 0;
      for (int i = 0; i < kAttemptsPerThread; ++i) mine += reservoir.take(kEpoch) ? 1 : 0;
      successes.fetch_add(mine, std::memory_order_relaxed);
    });
  }
  go.store(true, std::memory_order_release);
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(successes.load(), 1000);
  EXPECT_FALSE(reservoir.take(kEpoch));
}

TEST(ReservoirConcurrency, ExactAcrossSecondBoundaries) {
  // All threads take for one second at a time (rounds separated by joins): exactly the target
  // succeeds in each second.
  constexpr int kThreads = 8;
  Reservoir reservoir(50);
  for (std::int64_t second = kEpoch; second < kEpoch + 5; ++second) {
    std::atomic<int> successes{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 100; ++i) {
          if (reservoir.take(second)) successes.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(successes.load(), 50) << "second " << second;
  }
}

}  // namespace
}  // namespace xray::detail
