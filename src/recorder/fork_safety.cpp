#include "recorder/fork_safety.hpp"

#include <pthread.h>

#include <mutex>
#include <set>

#include "recorder/recorder_core.hpp"

namespace xray::detail {
namespace {

std::mutex& registry_mutex() {
  static auto* mutex = new std::mutex();  // outlives static destruction
  return *mutex;
}

std::set<RecorderCore*>& registry() {
  static auto* cores = new std::set<RecorderCore*>();
  return *cores;
}

void prepare() {
  registry_mutex().lock();
  for (RecorderCore* core : registry()) core->lock_for_fork();
}

void release() {
  for (auto it = registry().rbegin(); it != registry().rend(); ++it) (*it)->unlock_after_fork();
  registry_mutex().unlock();
}

}  // namespace

void register_for_fork(RecorderCore* core) noexcept {
  static const int registered = pthread_atfork(&prepare, &release, &release);
  (void)registered;
  try {
    std::lock_guard<std::mutex> lock(registry_mutex());
    registry().insert(core);
  } catch (...) {
    // Out of memory: this recorder is simply not fork-safe.
  }
}

void unregister_for_fork(RecorderCore* core) noexcept {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry().erase(core);
}

}  // namespace xray::detail
