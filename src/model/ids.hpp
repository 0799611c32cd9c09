// Internal: trace and entity ids.
//
// Random bits come from a per-thread generator seeded (and regularly reseeded) from getrandom(2),
// so an id costs about a nanosecond; a child of fork() reseeds and never repeats its parent's ids
// (ids.cpp says why a fast generator is enough for ids). Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace xray::detail {

// A trace id's text, stored inline: trace ids are 35 characters ("1-" + 8 + "-" + 24 hex digits),
// and a std::string of that length would allocate for every trace.
class TraceIdText {
 public:
  static constexpr std::size_t kLength = 35;
  TraceIdText() noexcept = default;
  // Keeps at most kLength characters (callers pass validated ids).
  explicit TraceIdText(std::string_view text) noexcept
      : size_(static_cast<std::uint8_t>(text.size() < kLength ? text.size() : kLength)) {
    for (std::size_t i = 0; i < size_; ++i) chars_[i] = text[i];
  }
  std::string_view view() const noexcept { return {chars_, size_}; }
  operator std::string_view() const noexcept { return view(); }  // NOLINT: reads as text
  std::string str() const { return std::string(view()); }
  friend bool operator==(const TraceIdText& a, std::string_view b) noexcept { return a.view() == b; }
  friend bool operator!=(const TraceIdText& a, std::string_view b) noexcept { return a.view() != b; }

 private:
  char chars_[kLength] = {};
  std::uint8_t size_ = 0;
};

// A non-zero random 64-bit id.
std::uint64_t new_entity_id() noexcept;
// "1-" + 8 hex digits of `epoch_seconds` + "-" + 24 random hex digits.
TraceIdText new_trace_id(std::int64_t epoch_seconds) noexcept;
// 64 random bits from the calling thread's generator (xoshiro256**, seeded from getrandom,
// reseeded periodically and after fork()).
std::uint64_t random_u64() noexcept;
// Fills `out` with random bytes from the calling thread's generator.
void random_bytes(void* out, std::size_t size) noexcept;

// Entity ids in text: 16 lowercase hex digits (write_id: into a buffer, without allocating).
void write_id(char (&out)[16], std::uint64_t id) noexcept;
std::string format_id(std::uint64_t id);
void append_id(std::string& out, std::uint64_t id);
// Parses 16 hex digits (either case); 0 (no id) on failure.
std::uint64_t parse_id(std::string_view hex) noexcept;

inline constexpr const char* kNoopTraceId = "1-00000000-000000000000000000000000";

}  // namespace xray::detail
