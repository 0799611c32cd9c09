// Internal: the time source, injectable for tests.
#pragma once

#include <chrono>
#include <cstdint>

namespace xray::detail {

// Thread safety: implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t system_now_us() const noexcept = 0;  // epoch microseconds
  virtual std::int64_t steady_now_ns() const noexcept = 0;  // monotonic nanoseconds
};

class RealClock final : public Clock {
 public:
  std::int64_t system_now_us() const noexcept override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::int64_t steady_now_ns() const noexcept override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace xray::detail
