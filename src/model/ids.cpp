#include "model/ids.hpp"

#include "base/fork.hpp"

#include <sys/random.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

namespace xray::detail {
namespace {

struct RandomBuffer {
  static constexpr std::size_t kSize = 512;
  unsigned char bytes[kSize];
  std::size_t used = kSize;  // empty
  unsigned generation = 0;

  void refill() noexcept {
    std::size_t filled = 0;
    while (filled < kSize) {
      ssize_t n = getrandom(bytes + filled, kSize - filled, 0);
      if (n > 0) {
        filled += static_cast<std::size_t>(n);
      } else if (n < 0 && errno != EINTR) {
        break;
      }
    }
    if (filled < kSize) {
      // getrandom unavailable (very old kernel or seccomp): fall back to a seeded generator
      // rather than fail the request. Ids stay unique with overwhelming probability.
      std::random_device device;
      std::mt19937_64 engine((static_cast<std::uint64_t>(device()) << 32) ^
                             static_cast<std::uint64_t>(
                                 std::chrono::steady_clock::now().time_since_epoch().count()));
      for (std::size_t i = filled; i < kSize; ++i) bytes[i] = static_cast<unsigned char>(engine());
    }
    used = 0;
  }
};

thread_local RandomBuffer t_buffer;

}  // namespace

void random_bytes(void* out, std::size_t size) noexcept {
  auto* dest = static_cast<unsigned char*>(out);
  RandomBuffer& buffer = t_buffer;
  // A thread's buffer from another fork generation is stale: a child never repeats its parent's ids.
  unsigned generation = fork_generation();
  if (buffer.generation != generation) {
    buffer.generation = generation;
    buffer.used = RandomBuffer::kSize;
  }
  while (size > 0) {
    if (buffer.used == RandomBuffer::kSize) buffer.refill();
    std::size_t take = std::min(size, RandomBuffer::kSize - buffer.used);
    std::memcpy(dest, buffer.bytes + buffer.used, take);
    // Never hand out the same bytes twice.
    std::memset(buffer.bytes + buffer.used, 0, take);
    buffer.used += take;
    dest += take;
    size -= take;
  }
}

std::uint64_t new_entity_id() noexcept {
  std::uint64_t id = 0;
  while (id == 0) random_bytes(&id, sizeof id);
  return id;
}

namespace {

void write_trace_id(char* id, std::int64_t epoch_seconds) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
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
}

}  // namespace

std::string new_trace_id(std::int64_t epoch_seconds) noexcept {
  std::string id(TraceIdText::kLength, '0');
  write_trace_id(id.data(), epoch_seconds);
  return id;
}

TraceIdText new_trace_id_text(std::int64_t epoch_seconds) noexcept {
  char id[TraceIdText::kLength];
  write_trace_id(id, epoch_seconds);
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
