// Internal: the state behind xray::Recorder, shared by every entity tree it created.
//
// Owns the logger, the emitter, the plugin results and the current settings snapshot. Entity trees
// keep the core alive, so a tree that completes after its Recorder is gone still reaches a shut-down
// emitter (which counts it as dropped) rather than freed memory.
// Thread safety: thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "xray/daemon_address.hpp"
#include "emitter/emitter.hpp"
#include "log/logger.hpp"
#include "model/clock.hpp"
#include "model/entity.hpp"
#include "recorder/environment.hpp"
#include "recorder/housekeeper.hpp"
#include "recorder/plugin_state.hpp"
#include "recorder/settings.hpp"
#include "xray/config.hpp"
#include "xray/recorder.hpp"

namespace xray::detail {

class CentralizedRuleCache;

class RecorderCore final : public TreeOwner, public std::enable_shared_from_this<RecorderCore> {
 public:
  RecorderCore();
  ~RecorderCore();

  ConfigResult configure(const Config& config, const GetEnv& getenv = nullptr) noexcept;
  std::shared_ptr<const Settings> settings() const noexcept;

  // The calling thread's view of this core. `owner` and `settings` are what every tree the thread
  // begins holds on to: this core (the tree's owner) and the current settings snapshot, both
  // aliasing one per-thread holder, refreshed when configure() publishes a new snapshot, so that
  // beginning and ending traces on several threads never writes a reference count (or takes a
  // lock) that the threads share. `plugin_result` is not held by trees: it is the plugins' result
  // (its origin is the sampler's service type), cached so that the default sampler's requests
  // take no lock for it either.
  struct TreeAnchors {
    std::shared_ptr<TreeOwner> owner;
    std::shared_ptr<const Settings> settings;
    std::shared_ptr<const PluginResult> plugin_result;
  };
  // Throws std::bad_alloc when the holder cannot be allocated.
  const TreeAnchors& thread_anchors();

  // Null when the SDK is disabled. The segment is not yet pushed on the context stack.
  std::shared_ptr<Entity> begin_segment(std::string_view name, const TraceHeader& upstream,
                                        const SamplingRequest& request) noexcept;
  // A subsegment under `parent` (of any recorder's tree: it joins that tree).
  static std::shared_ptr<Entity> begin_subsegment(std::string_view name,
                                                  const std::shared_ptr<Entity>& parent) noexcept;
  // AWS Lambda (spec §11): the facade segment of an invocation from its trace header, never sent;
  // subsegments begun under it are sent on their own. A header without Parent or Sampled gives a
  // pass-through facade; a missing or invalid Root applies the context-missing strategy (throws
  // only under kRuntimeError) and gives null, as does a disabled SDK. Not pushed on the stack.
  std::shared_ptr<Entity> begin_facade(const TraceHeader& header);
  // The end of `facade`'s invocation: each of its subsegments still open is sent now as
  // in_progress, and complete (on its own, with the facade's trace and parent ids) when it ends.
  static void send_open_subsegments(const std::shared_ptr<Entity>& facade) noexcept;
  // Applies the context-missing strategy for `operation`; throws only under kRuntimeError.
  void context_missing(std::string_view operation) const;

  Logger& logger() noexcept override { return logger_; }
  Emitter& emitter() noexcept { return *emitter_; }
  PluginState& plugins() noexcept { return plugins_; }
  Housekeeper& housekeeper() noexcept { return housekeeper_; }
  const Clock& clock() const noexcept { return *clock_; }
  std::int64_t now_us(const TimeAnchor& anchor) const noexcept override;
  void hand_off(std::shared_ptr<Entity> document) noexcept override { emitter_->submit(std::move(document)); }
  void schedule(std::chrono::steady_clock::time_point when,
                std::function<void()> task) noexcept override {
    housekeeper_.schedule(when, std::move(task));
  }

  void shutdown(std::chrono::milliseconds timeout) noexcept;
  std::chrono::milliseconds shutdown_timeout() const noexcept;

  // fork(2) safety (fork_safety.hpp): every lock a request thread may take, in a fixed order.
  void lock_for_fork() noexcept;
  void unlock_after_fork() noexcept;

  void count_streamed(std::size_t n) noexcept override {
    streamed_.fetch_add(n, std::memory_order_relaxed);
  }
  Stats stats() const noexcept;

  // Tests only, before the recorder is used from other threads: replace the clock (entity times,
  // samplers and centralized rules read it from then on) or the emitter (the next configure()
  // configures it).
  void set_clock(std::shared_ptr<const Clock> clock) noexcept { clock_ = std::move(clock); }
  void set_emitter(std::unique_ptr<Emitter> emitter) noexcept;

 private:
  Logger logger_;
  PluginState plugins_;
  Housekeeper housekeeper_;
  std::shared_ptr<const Clock> clock_;
  std::unique_ptr<Emitter> emitter_;

  mutable std::mutex mutex_;  // serialises configure(); guards settings_ and the fields below
  std::shared_ptr<const Settings> settings_;
  Config applied_;  // the last valid programmatic values
  DaemonAddress code_address_;
  std::chrono::milliseconds shutdown_timeout_{1000};
  std::shared_ptr<SamplingStrategy> default_sampler_;  // guarded; kept across configure()
  std::shared_ptr<CentralizedRuleCache> rule_cache_;  // guarded; created with centralized sampling
  CentralizedRuleCache* locked_rule_cache_ = nullptr;  // between lock_for_fork and unlock_after_fork
  std::atomic<std::uint64_t> streamed_{0};
  // Bumped (under mutex_) each time settings_ changes; thread_anchors() compares it on every
  // segment, so it has a cache line of its own, away from the counters.
  alignas(64) std::atomic<std::uint64_t> settings_generation_{0};
};

// Ends `entity`: sets its end time and, when its tree is complete, hands the tree to the emitter
// (sampled) or releases it. Idempotent.
void end_entity(const std::shared_ptr<Entity>& entity) noexcept;

struct RecorderAccess {
  static RecorderCore& core(Recorder& recorder) noexcept { return *recorder.core_; }
};

}  // namespace xray::detail
