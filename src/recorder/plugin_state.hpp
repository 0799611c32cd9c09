// Internal: runs the configured plugins on a background thread and publishes what they found.
//
// Detection never blocks the caller: `start` returns at once. The emitter thread reads the result
// when it serializes a document, so documents sent after detection finished carry plugin data.
// Thread safety: thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/environment.hpp"
#include "log/logger.hpp"
#include "model/serializer.hpp"
#include "xray/plugin.hpp"

namespace xray::detail {

// What detection found: what every segment document gets at serialization.
using PluginResult = DocumentAdditions;

class PluginState {
 public:
  explicit PluginState(Logger& logger) : logger_(logger) {}
  ~PluginState();
  // Cancels detection in progress (the SDK's own probes give up within milliseconds), waits for it
  // and starts no more. Idempotent.
  void shutdown() noexcept;
  PluginState(const PluginState&) = delete;
  PluginState& operator=(const PluginState&) = delete;

  // Starts detection with `plugins` (results are cached: a later start with the same plugins is a
  // no-op). Returns at once. The plugins read `getenv` (empty: the process environment) as their
  // thread's environment (base/environment.hpp).
  void start(std::vector<std::shared_ptr<const Plugin>> plugins, std::chrono::milliseconds budget,
             GetEnv getenv = nullptr);
  // The merged result, or null while detection runs (or when no plugin was configured).
  std::shared_ptr<const PluginResult> result() const;
  // Changes each time result() may have changed: a reader that cached a result compares it
  // instead of taking the lock.
  std::uint64_t result_version() const noexcept {
    return result_version_.load(std::memory_order_acquire);
  }
  // For tests and the demo: waits until detection finished.
  bool wait_until_done(std::chrono::milliseconds timeout) const;

  // fork(2) safety (recorder/fork_safety.cpp): result() is on the request path.
  void lock_for_fork() noexcept { mutex_.lock(); }
  void unlock_after_fork() noexcept { mutex_.unlock(); }

 private:
  void run(std::vector<std::shared_ptr<const Plugin>> plugins, std::chrono::milliseconds budget,
           std::uint64_t generation, const GetEnv& getenv);

  Logger& logger_;
  mutable std::mutex mutex_;
  mutable std::condition_variable done_cv_;
  std::shared_ptr<const PluginResult> result_;   // guarded by mutex_
  std::vector<std::shared_ptr<const Plugin>> plugins_;  // guarded: the set last started
  std::uint64_t generation_ = 0;                 // guarded: bumped by each start
  std::atomic<std::uint64_t> result_version_{0};  // bumped (under mutex_) when result_ changes
  bool running_ = false;                         // guarded
  bool stopped_ = false;                         // guarded: set by shutdown()
  std::atomic<bool> cancel_{false};              // raised by shutdown(); read by the probes
  std::vector<std::thread> threads_;             // guarded; joined by the destructor
};

}  // namespace xray::detail
