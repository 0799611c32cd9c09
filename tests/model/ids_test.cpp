#include "model/ids.hpp"

#include <gtest/gtest.h>

#include "xray/trace_header.hpp"
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace xray::detail {
namespace {

TEST(EntityId, NeverZeroAndUnique) {
  constexpr int kCount = 100'000;
  std::unordered_set<std::uint64_t> seen;
  seen.reserve(kCount);
  for (int i = 0; i < kCount; ++i) {
    std::uint64_t id = new_entity_id();
    ASSERT_NE(id, 0u);
    ASSERT_TRUE(seen.insert(id).second) << "duplicate id after " << i << " ids";
  }
}

TEST(EntityId, UsesAllBits) {
  // 64 random bits: over 1000 ids, every bit is set at least once and cleared at least once.
  std::uint64_t any_set = 0;
  std::uint64_t all_set = ~std::uint64_t{0};
  for (int i = 0; i < 1000; ++i) {
    std::uint64_t id = new_entity_id();
    any_set |= id;
    all_set &= id;
  }
  EXPECT_EQ(any_set, ~std::uint64_t{0});
  EXPECT_EQ(all_set, 0u);
}

TEST(TraceId, Format) {
  for (int i = 0; i < 1000; ++i) {
    std::string id = new_trace_id(1'700'000'000 + i).str();
    ASSERT_EQ(id.size(), 35u);
    ASSERT_TRUE(TraceHeader::is_valid_root(id)) << id;  // 1-<8 hex>-<24 hex>, lowercase
  }
}

TEST(TraceId, EncodesEpochSeconds) {
  EXPECT_EQ(new_trace_id(0x5759e988).str().substr(0, 11), "1-5759e988-");
  EXPECT_EQ(new_trace_id(0).str().substr(0, 11), "1-00000000-");
  EXPECT_EQ(new_trace_id(1).str().substr(0, 11), "1-00000001-");
  EXPECT_EQ(new_trace_id(0xffffffff).str().substr(0, 11), "1-ffffffff-");
  EXPECT_EQ(new_trace_id(1'480'615'200).str().substr(0, 11), "1-58406520-");
}

TEST(TraceId, RandomPartDiffers) {
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(seen.insert(new_trace_id(0x5759e988).str()).second);
}

TEST(TraceId, NoopTraceIdConstant) {
  EXPECT_STREQ(kNoopTraceId, "1-00000000-000000000000000000000000");
  EXPECT_TRUE(TraceHeader::is_valid_root(kNoopTraceId));
}

TEST(RandomBytes, VariousSizes) {
  for (std::size_t size : {0u, 1u, 2u, 7u, 8u, 511u, 512u, 513u, 1023u, 1024u, 1025u, 4096u}) {
    // Guard bytes around the target catch overruns.
    std::vector<unsigned char> buffer(size + 32, 0xAB);
    random_bytes(buffer.data() + 16, size);
    for (std::size_t i = 0; i < 16; ++i) {
      ASSERT_EQ(buffer[i], 0xAB) << "underrun, size " << size;
      ASSERT_EQ(buffer[16 + size + i], 0xAB) << "overrun, size " << size;
    }
    if (size >= 64) {
      // Random bytes: a run of 64 is all-equal with negligible probability, and so many zero bytes
      // would mean consumed (cleared) buffer bytes were handed out again.
      std::size_t zeros = static_cast<std::size_t>(
          std::count(buffer.begin() + 16, buffer.begin() + 16 + static_cast<std::ptrdiff_t>(size), 0));
      EXPECT_LT(zeros, size / 8 + 8) << "size " << size;
      bool all_same = std::all_of(buffer.begin() + 16,
                                  buffer.begin() + 16 + static_cast<std::ptrdiff_t>(size),
                                  [&](unsigned char c) { return c == buffer[16]; });
      EXPECT_FALSE(all_same) << "size " << size;
    }
  }
}

TEST(RandomBytes, ZeroSizeWritesNothing) {
  unsigned char sentinel[4] = {1, 2, 3, 4};
  random_bytes(sentinel, 0);
  EXPECT_EQ(sentinel[0], 1);
  EXPECT_EQ(sentinel[3], 4);
  random_bytes(nullptr, 0);  // nothing to write: the pointer is never touched
  unsigned char after[16] = {};
  random_bytes(after, sizeof after);  // and the buffer still works
  EXPECT_NE(std::count(std::begin(after), std::end(after), 0), 16);
}

TEST(RandomBytes, ConsecutiveCallsDiffer) {
  std::array<unsigned char, 32> a{};
  std::array<unsigned char, 32> b{};
  random_bytes(a.data(), a.size());
  random_bytes(b.data(), b.size());
  EXPECT_NE(a, b);
}

TEST(RandomBytes, CrossesBufferBoundaryWithoutRepeats) {
  // Many odd-sized draws straddle the per-thread buffer's refill boundary; 8-byte windows never
  // repeat.
  std::vector<unsigned char> all;
  for (int i = 0; i < 100; ++i) {
    std::vector<unsigned char> chunk(37);
    random_bytes(chunk.data(), chunk.size());
    all.insert(all.end(), chunk.begin(), chunk.end());
  }
  std::set<std::uint64_t> windows;
  for (std::size_t i = 0; i + 8 <= all.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, all.data() + i, 8);
    EXPECT_TRUE(windows.insert(word).second) << "repeat at offset " << i;
  }
}

TEST(IdsConcurrency, ThreadsProduceUniqueIds) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10'000;
  std::vector<std::vector<std::uint64_t>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      ids[t].reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(new_entity_id());
    });
  }
  for (auto& thread : threads) thread.join();
  std::unordered_set<std::uint64_t> seen;
  for (const auto& list : ids) {
    for (std::uint64_t id : list) {
      ASSERT_NE(id, 0u);
      ASSERT_TRUE(seen.insert(id).second);
    }
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(IdsConcurrency, ThreadsProduceUniqueTraceIds) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2'000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(new_trace_id(0x5759e988).str());
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> seen;
  for (const auto& list : ids) seen.insert(list.begin(), list.end());
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(IdsFork, ChildDoesNotRepeatParentIds) {
  constexpr int kIds = 16;
  // Fill this thread's buffer partially, so a child that kept it would replay the parent's bytes.
  (void)new_entity_id();

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: draw ids, write them, leave without running destructors or atexit handlers.
    close(fds[0]);
    std::uint64_t child_ids[kIds];
    for (int i = 0; i < kIds; ++i) child_ids[i] = new_entity_id();
    const char* data = reinterpret_cast<const char*>(child_ids);
    std::size_t left = sizeof child_ids;
    while (left > 0) {
      ssize_t n = write(fds[1], data, left);
      if (n <= 0) _exit(2);
      data += n;
      left -= static_cast<std::size_t>(n);
    }
    close(fds[1]);
    _exit(0);
  }

  close(fds[1]);
  std::vector<std::uint64_t> parent_ids;
  for (int i = 0; i < kIds; ++i) parent_ids.push_back(new_entity_id());

  std::uint64_t child_ids[kIds] = {};
  char* data = reinterpret_cast<char*>(child_ids);
  std::size_t got = 0;
  while (got < sizeof child_ids) {
    ssize_t n = read(fds[0], data + got, sizeof child_ids - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  ASSERT_EQ(got, sizeof child_ids);

  std::set<std::uint64_t> parent_set(parent_ids.begin(), parent_ids.end());
  for (std::uint64_t id : child_ids) {
    EXPECT_NE(id, 0u);
    EXPECT_EQ(parent_set.count(id), 0u) << "child repeated parent id " << std::hex << id;
  }
}

}  // namespace
}  // namespace xray::detail
