#include "model/ids.hpp"

#include "base/fork.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>

namespace xray::detail {
namespace {

// Fills `out` from the OS CSPRNG; when getrandom(2) is unavailable (very old kernel or seccomp),
// from clocks, the process id and a stack address mixed by splitmix64, rather than fail the request
// (std::random_device is no fallback: it reads the same sources and throws when they fail).
void os_random(unsigned char* out, std::size_t size) noexcept {
  std::size_t filled = 0;
  while (filled < size) {
    ssize_t n = getrandom(out + filled, size - filled, 0);
    if (n > 0) {
      filled += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      break;
    }
  }
  if (filled < size) {
    std::uint64_t mix =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
        (static_cast<std::uint64_t>(
             std::chrono::system_clock::now().time_since_epoch().count()) << 1) ^
        (static_cast<std::uint64_t>(::getpid()) << 32) ^ reinterpret_cast<std::uintptr_t>(&mix);
    for (std::size_t i = filled; i < size; ++i) {
      mix += 0x9E3779B97F4A7C15ull;  // splitmix64
      std::uint64_t z = mix;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      out[i] = static_cast<unsigned char>(z ^ (z >> 31));
    }
  }
}

// The xoshiro256** step (Blackman and Vigna): advances `state` (four words, never all zero) and
// returns the next 64 random bits, all of them usable.
std::uint64_t xoshiro256_next(std::uint64_t (&state)[4]) noexcept {
  const auto rotl = [](std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const std::uint64_t result = rotl(state[1] * 5, 7) * 9;
  const std::uint64_t t = state[1] << 17;
  state[2] ^= state[0];
  state[3] ^= state[1];
  state[1] ^= state[2];
  state[0] ^= state[3];
  state[2] ^= t;
  state[3] = rotl(state[3], 45);
  return result;
}

// Ids must be unique and hard to guess, not secret: they travel in clear in every header. Drawing
// each one from the kernel's ChaCha cost about 15 ns of a request's time; this per-thread
// xoshiro256** generator costs about 1 ns per 8 bytes. It is seeded with 256 bits from getrandom,
// reseeded every kReseedInterval outputs, and after fork() (a child never repeats its parent's ids).
class ThreadGenerator {
 public:
  std::uint64_t next(unsigned generation) noexcept {
    if (generation_ != generation || outputs_ == 0) reseed(generation);
    --outputs_;
    return xoshiro256_next(state_);
  }

 private:
  static constexpr std::uint32_t kReseedInterval = 1u << 16;

  void reseed(unsigned generation) noexcept {
    do {
      os_random(reinterpret_cast<unsigned char*>(state_), sizeof state_);
    } while ((state_[0] | state_[1] | state_[2] | state_[3]) == 0);  // the one invalid state
    generation_ = generation;
    outputs_ = kReseedInterval;
  }

  std::uint64_t state_[4] = {};
  std::uint32_t outputs_ = 0;  // left before the next reseed; 0: not seeded yet
  unsigned generation_ = 0;
};

thread_local ThreadGenerator t_generator;

}  // namespace

std::uint64_t random_u64() noexcept { return t_generator.next(fork_generation()); }

void random_bytes(void* out, std::size_t size) noexcept {
  auto* dest = static_cast<unsigned char*>(out);
  ThreadGenerator& generator = t_generator;
  const unsigned generation = fork_generation();
  while (size > 0) {
    const std::uint64_t word = generator.next(generation);
    const std::size_t take = size < sizeof word ? size : sizeof word;
    std::memcpy(dest, &word, take);
    dest += take;
    size -= take;
  }
}

std::uint64_t new_entity_id() noexcept {
  std::uint64_t id = 0;
  while (id == 0) id = random_u64();
  return id;
}

TraceIdText new_trace_id(std::int64_t epoch_seconds) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  char id[TraceIdText::kLength];
  id[0] = '1';
  id[1] = '-';
  id[10] = '-';
  auto seconds = static_cast<std::uint32_t>(epoch_seconds);
  for (int i = 0; i < 8; ++i) id[2 + i] = kHex[(seconds >> (28 - 4 * i)) & 0xf];
  unsigned char random[12];
  random_bytes(random, sizeof random);
  for (int i = 0; i < 12; ++i) {
    id[11 + 2 * i] = kHex[random[i] >> 4];
    id[12 + 2 * i] = kHex[random[i] & 0xf];
  }
  return TraceIdText(std::string_view(id, sizeof id));
}

void write_id(char (&out)[16], std::uint64_t id) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = kHex[id & 0xF];
    id >>= 4;
  }
}

void append_id(std::string& out, std::uint64_t id) {
  char digits[16];
  write_id(digits, id);
  out.append(digits, sizeof digits);
}

std::string format_id(std::uint64_t id) {
  std::string out;
  out.reserve(16);
  append_id(out, id);
  return out;
}

std::uint64_t parse_id(std::string_view hex) noexcept {
  if (hex.size() != 16) return 0;
  std::uint64_t value = 0;
  for (char c : hex) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0) return 0;
    value = (value << 4) | static_cast<std::uint64_t>(digit);
  }
  return value;
}

}  // namespace xray::detail
