#include "net/resolver.hpp"

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace xray::detail {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::atomic<int> g_calls{0};

Resolution hanging_lookup(const std::string&, SocketKind) {
  ++g_calls;
  std::this_thread::sleep_for(3s);  // a DNS server that does not answer
  Resolution resolution;
  resolution.addresses = {"127.0.0.1"};
  return resolution;
}

Resolution quick_lookup(const std::string& host, SocketKind) {
  ++g_calls;
  Resolution resolution;
  if (host == "daemon.test") {
    resolution.addresses = {"127.0.0.9", "::1"};
  } else {
    resolution.error = "Name or service not known";
  }
  return resolution;
}

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override { g_calls = 0; }
  void TearDown() override { set_lookup_for_testing(nullptr); }
};

TEST_F(ResolverTest, NumericAddressesNeverReachTheLookup) {
  set_lookup_for_testing(&hanging_lookup);
  for (const char* host : {"127.0.0.1", "::1", "fe80::1"}) {
    Resolution r = resolve_host(host, SocketKind::kDatagram, Clock::now() + 1s);
    ASSERT_TRUE(r.ok()) << host << ": " << r.error;
    EXPECT_EQ(r.addresses.front(), host);
  }
  EXPECT_EQ(g_calls, 0);
}

TEST_F(ResolverTest, NamesAreLookedUpAndFailuresExplained) {
  set_lookup_for_testing(&quick_lookup);
  Resolution found = resolve_host("daemon.test", SocketKind::kStream, Clock::now() + 2s);
  ASSERT_TRUE(found.ok()) << found.error;
  EXPECT_EQ(found.addresses, (std::vector<std::string>{"127.0.0.9", "::1"}));
  Resolution missing = resolve_host("missing.test", SocketKind::kStream, Clock::now() + 2s);
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(missing.error, "Name or service not known");
}

TEST_F(ResolverTest, AHungLookupIsAbandonedAtTheDeadline) {
  set_lookup_for_testing(&hanging_lookup);
  const auto start = Clock::now();
  Resolution r = resolve_host("hung.test", SocketKind::kDatagram, start + 100ms);
  const auto waited = Clock::now() - start;
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("did not finish in time"), std::string::npos) << r.error;
  // Functional bound, not a benchmark: the lookup itself takes 3 s.
  EXPECT_LT(waited, 2s);
  EXPECT_GE(pending_lookups(), 1);
}

TEST_F(ResolverTest, GiveUpEndsTheWaitEarly) {
  set_lookup_for_testing(&hanging_lookup);
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    stop = true;
  });
  const auto start = Clock::now();
  Resolution r = resolve_host("hung.test", SocketKind::kDatagram, start + 10s, [&] { return stop.load(); });
  stopper.join();
  EXPECT_FALSE(r.ok());
  EXPECT_LT(Clock::now() - start, 2s);
}

TEST_F(ResolverTest, AbandonedLookupsAreBounded) {
  set_lookup_for_testing(&hanging_lookup);
  // Fill every slot with hung lookups, abandoned at once.
  for (int i = 0; i < kMaxPendingLookups + 2; ++i) {
    (void)resolve_host("hung.test", SocketKind::kDatagram, Clock::now());
  }
  EXPECT_LE(pending_lookups(), kMaxPendingLookups);
  Resolution r = resolve_host("hung.test", SocketKind::kDatagram, Clock::now() + 1s);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "too many DNS lookups still pending");
  // They finish on their own and free their slots.
  const auto deadline = Clock::now() + 10s;
  while (pending_lookups() > 0 && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(pending_lookups(), 0);
}

TEST_F(ResolverTest, RealLookupOfLocalhost) {
  Resolution r = resolve_host("localhost", SocketKind::kDatagram, Clock::now() + 5s);
  ASSERT_TRUE(r.ok()) << r.error;
}

}  // namespace
}  // namespace xray::detail
