#include "emitter/token_bucket.hpp"

#include <gtest/gtest.h>

namespace xray::detail {
namespace {

using namespace std::chrono_literals;
using TimePoint = TokenBucket::TimePoint;

TEST(TokenBucketTest, StartsFullAndGrantsTheBurst) {
  TimePoint t0{};
  TokenBucket bucket(1000, 100, t0);
  EXPECT_EQ(bucket.take(32, 8, t0), 32u);
  EXPECT_EQ(bucket.take(32, 8, t0), 32u);
  EXPECT_EQ(bucket.take(32, 8, t0), 32u);
  EXPECT_EQ(bucket.take(32, 8, t0), 0u);  // 4 left: less than a group
  EXPECT_EQ(bucket.take(4, 8, t0), 4u);   // but enough for a smaller request: 100 in all
  EXPECT_EQ(bucket.take(1, 8, t0), 0u);
}

TEST(TokenBucketTest, RefillsAtTheRateAndWaitsForAGroup) {
  TimePoint t0{};
  TokenBucket bucket(1000, 100, t0);
  EXPECT_EQ(bucket.take(100, 8, t0), 100u);
  EXPECT_EQ(bucket.take(32, 8, t0 + 5ms), 0u);  // 5 tokens: below the group of 8
  EXPECT_EQ(bucket.time_until(32, 8, t0 + 5ms), 3ms);
  EXPECT_EQ(bucket.take(32, 8, t0 + 8ms), 8u);
  EXPECT_EQ(bucket.take(3, 8, t0 + 11ms), 3u);  // fewer wanted than a group: granted when available
}

TEST(TokenBucketTest, NeverHoldsMoreThanTheBurst) {
  TimePoint t0{};
  TokenBucket bucket(1000, 10, t0);
  EXPECT_EQ(bucket.take(10, 1, t0), 10u);
  EXPECT_EQ(bucket.take(1000, 1, t0 + 10s), 10u);
}

TEST(TokenBucketTest, ARateOfZeroIsUnlimited) {
  TimePoint t0{};
  TokenBucket bucket(0, 10, t0);
  EXPECT_TRUE(bucket.unlimited());
  EXPECT_EQ(bucket.take(100000, 8, t0), 100000u);
  EXPECT_EQ(bucket.time_until(5, 8, t0), 0ns);
}

}  // namespace
}  // namespace xray::detail
