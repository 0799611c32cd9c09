#include "recorder/recorder_core.hpp"

#include "emitter/udp_emitter.hpp"
#include "recorder/fork_safety.hpp"
#include "sampling/centralized_sampling.hpp"
#include "xray/errors.hpp"

// The core's plumbing: construction, fork safety, shutdown, the settings snapshot, counters and
// the context-missing strategy. configure() is in configuration.cpp; beginning and ending entities
// in tree_lifecycle.cpp.
namespace xray::detail {

RecorderCore::RecorderCore()
    : plugins_(logger_), clock_(std::make_shared<RealClock>()) {
  auto udp = std::make_unique<UdpEmitter>(
      logger_, [this] { return plugins_.result(); }, Config{}.queue_capacity);
  emitter_ = std::move(udp);
  applied_.sampling = true;
  code_address_ = default_daemon_address();
  // Defaults plus the environment; a default Config has nothing to reject.
  (void)configure(applied_);
  register_for_fork(this);
}

RecorderCore::~RecorderCore() {
  unregister_for_fork(this);
  shutdown(std::chrono::milliseconds(0));
}

void RecorderCore::lock_for_fork() noexcept {
  mutex_.lock();
  plugins_.lock_for_fork();
  locked_rule_cache_ = rule_cache_.get();
  if (locked_rule_cache_ != nullptr) locked_rule_cache_->lock_for_fork();
  logger_.lock_for_fork();
}

void RecorderCore::unlock_after_fork() noexcept {
  logger_.unlock_after_fork();
  if (locked_rule_cache_ != nullptr) locked_rule_cache_->unlock_after_fork();
  locked_rule_cache_ = nullptr;
  plugins_.unlock_after_fork();
  mutex_.unlock();
}

void RecorderCore::set_emitter(std::unique_ptr<Emitter> emitter) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  emitter_ = std::move(emitter);
}

std::shared_ptr<const Settings> RecorderCore::settings() const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  return settings_;
}

namespace {

// The calling thread's anchors: for one core at a time (a thread tracing for several recorders
// refreshes when it switches). Holding the core here keeps its address from being reused while
// it is compared.
struct ThreadAnchors {
  const RecorderCore* core = nullptr;
  std::uint64_t generation = 0;
  std::uint64_t plugin_version = 0;
  RecorderCore::TreeAnchors anchors;
};

// What a thread's anchors point into: one reference each to the core and the snapshot, shared by
// every tree the thread begins until the next refresh (through aliasing pointers to its members).
struct AnchorHolder {
  std::shared_ptr<TreeOwner> owner;
  std::shared_ptr<const Settings> settings;
};

ThreadAnchors& this_thread_anchors() noexcept {
  thread_local ThreadAnchors anchors;
  return anchors;
}

}  // namespace

const RecorderCore::TreeAnchors& RecorderCore::thread_anchors() {
  const std::uint64_t generation = settings_generation_.load(std::memory_order_acquire);
  const std::uint64_t plugin_version = plugins_.result_version();
  ThreadAnchors& cached = this_thread_anchors();
  if (cached.core == this && cached.generation == generation) {
    if (cached.plugin_version != plugin_version) {
      cached.anchors.plugin_result = plugins_.result();
      cached.plugin_version = plugin_version;
    }
    return cached.anchors;
  }
  // A snapshot published after `generation` was read is cached under the older number and simply
  // refreshed once more on the next call.
  auto holder = std::make_shared<AnchorHolder>(AnchorHolder{shared_from_this(), settings()});
  cached.anchors.owner = std::shared_ptr<TreeOwner>(holder, holder->owner.get());
  cached.anchors.settings = std::shared_ptr<const Settings>(holder, holder->settings.get());
  cached.anchors.plugin_result = plugins_.result();
  cached.core = this;
  cached.generation = generation;
  cached.plugin_version = plugin_version;
  return cached.anchors;
}

std::int64_t RecorderCore::now_us(const TimeAnchor& anchor) const noexcept {
  return anchor.system_us + (clock_->steady_now_ns() - anchor.steady_ns) / 1000;
}

void RecorderCore::shutdown(std::chrono::milliseconds timeout) noexcept {
  std::shared_ptr<CentralizedRuleCache> rule_cache;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    rule_cache = rule_cache_;
  }
  if (rule_cache) rule_cache->stop();
  plugins_.shutdown();      // probes are cancelled: returns within milliseconds
  housekeeper_.shutdown();  // before the emitter: its tasks submit to it
  emitter_->shutdown(timeout);
}

void RecorderCore::context_missing(std::string_view operation) const {
  std::shared_ptr<const Settings> settings = this->settings();
  std::string what = "cannot " + std::string(operation) + ": no segment or subsegment is current";
  switch (settings->context_missing) {
    case ContextMissing::kRuntimeError:
      throw ContextMissingError(what);
    case ContextMissing::kIgnoreError:
      return;
    case ContextMissing::kLogError:
      if (settings->context_missing_callback) {
        try {
          settings->context_missing_callback(what);
        } catch (...) {
          // A user callback must not take the request down.
        }
      } else {
        const_cast<Logger&>(logger_).log_limited(LogKind::kContextMissing, LogLevel::kError, what);
      }
      return;
  }
}

Stats RecorderCore::stats() const noexcept {
  Stats stats = emitter_->stats();
  stats.streamed += streamed_.load(std::memory_order_relaxed);
  return stats;
}

std::chrono::milliseconds RecorderCore::shutdown_timeout() const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  return shutdown_timeout_;
}

}  // namespace xray::detail
