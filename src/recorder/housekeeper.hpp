// Internal: a timer thread for the recorder's rare delayed work: segments whose subsegments are
// still open long after the segment ended (spec §6.1) and the optional in-progress document of
// long requests. Nothing here runs on a request thread, and nothing is scheduled for the common
// request (a segment that ends after all its subsegments).
//
// The thread starts with the first scheduled task and stops in `shutdown` (or the destructor);
// tasks still pending then are dropped. After fork() the child starts its own thread on demand.
// Thread safety: thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace xray::detail {

class Housekeeper {
 public:
  using Clock = std::chrono::steady_clock;
  using Task = std::function<void()>;

  Housekeeper();
  ~Housekeeper();
  Housekeeper(const Housekeeper&) = delete;
  Housekeeper& operator=(const Housekeeper&) = delete;

  // Runs `task` on the housekeeping thread at `when` (tasks must not throw).
  void schedule(Clock::time_point when, Task task) noexcept;
  // Runs every task due by `now` on the calling thread (tests drive time this way).
  void run_due(Clock::time_point now) noexcept;
  void shutdown() noexcept;

 private:
  struct State;
  void run() noexcept;

  std::unique_ptr<State> state_;
};

}  // namespace xray::detail
