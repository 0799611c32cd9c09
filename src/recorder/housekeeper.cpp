#include "recorder/housekeeper.hpp"

#include <atomic>
#include <vector>

#include "base/fork.hpp"

namespace xray::detail {

struct Housekeeper::State {
  std::mutex mutex;
  std::condition_variable wake;
  std::multimap<Clock::time_point, Task> tasks;  // guarded
  std::unique_ptr<std::thread> thread;             // guarded
  bool stopping = false;                           // guarded
  unsigned generation = fork_generation();
};

Housekeeper::Housekeeper() : state_(std::make_unique<State>()) {
}

Housekeeper::~Housekeeper() { shutdown(); }

void Housekeeper::schedule(Clock::time_point when, Task task) noexcept {
  if (state_->generation != fork_generation()) {
    // Forked: the parent's thread does not exist here and its mutex may be held forever. Abandon
    // that state (a one-time leak) and start clean.
    (void)state_->thread.release();
    (void)state_.release();
    state_ = std::make_unique<State>();
  }
  try {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->stopping) return;
    state_->tasks.emplace(when, std::move(task));
    if (!state_->thread) state_->thread = std::make_unique<std::thread>(&Housekeeper::run, this);
  } catch (...) {
    return;  // no memory or no thread: the delayed work is skipped, the request goes on
  }
  state_->wake.notify_one();
}

void Housekeeper::run_due(Clock::time_point now) noexcept {
  std::vector<Task> due;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    auto end = state_->tasks.upper_bound(now);
    for (auto it = state_->tasks.begin(); it != end; ++it) due.push_back(std::move(it->second));
    state_->tasks.erase(state_->tasks.begin(), end);
  }
  for (auto& task : due) task();
}

void Housekeeper::shutdown() noexcept {
  std::unique_ptr<std::thread> thread;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping = true;
    state_->tasks.clear();
    thread = std::move(state_->thread);
  }
  state_->wake.notify_one();
  if (thread && thread->joinable()) thread->join();
}

void Housekeeper::run() noexcept {
  State& state = *state_;
  std::unique_lock<std::mutex> lock(state.mutex);
  while (!state.stopping) {
    if (state.tasks.empty()) {
      state.wake.wait(lock);
      continue;
    }
    auto next = state.tasks.begin()->first;
    if (Clock::now() < next) {
      state.wake.wait_until(lock, next);
      continue;
    }
    lock.unlock();
    run_due(Clock::now());
    lock.lock();
  }
}

}  // namespace xray::detail
