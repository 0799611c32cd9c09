#include "recorder/plugin_state.hpp"

#include <cstdlib>

#include "http/http_client.hpp"

namespace xray::detail {

PluginState::~PluginState() { shutdown(); }

void PluginState::shutdown() noexcept {
  cancel_.store(true, std::memory_order_relaxed);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    threads.swap(threads_);
  }
  for (auto& thread : threads) {
    if (thread.joinable()) thread.join();
  }
}

void PluginState::start(std::vector<std::shared_ptr<const Plugin>> plugins,
                        std::chrono::milliseconds budget, GetEnv getenv) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return;
  if (plugins == plugins_) return;  // same plugins: results are cached for the process
  plugins_ = plugins;
  ++generation_;
  if (plugins.empty()) {
    result_.reset();
    result_version_.fetch_add(1, std::memory_order_release);
    running_ = false;
    done_cv_.notify_all();
    return;
  }
  running_ = true;
  threads_.emplace_back(&PluginState::run, this, std::move(plugins), budget, generation_,
                        std::move(getenv));
}

std::shared_ptr<const PluginResult> PluginState::result() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return result_;
}

bool PluginState::wait_until_done(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return done_cv_.wait_for(lock, timeout, [this] { return !running_; });
}

void PluginState::run(std::vector<std::shared_ptr<const Plugin>> plugins,
                      std::chrono::milliseconds budget, std::uint64_t generation,
                      const GetEnv& getenv) {
  auto deadline = std::chrono::steady_clock::now() + budget;
  ThreadCancelScope cancel_probes(&cancel_);
  ThreadEnvironment environment(getenv);
  auto merged = std::make_shared<PluginResult>();
  int merged_precedence = 0;
  for (const auto& plugin : plugins) {
    if (!plugin) continue;
    std::string name;
    try {
      name = std::string(plugin->name());
      auto found = plugin->detect(deadline);
      if (!found) {
        logger_.log(LogLevel::kDebug, "plugin " + name + ": not detected");
        continue;
      }
      if (found->aws.is_object()) {
        for (auto& [key, value] : found->aws.items()) {
          auto existing = merged->aws.find(key);
          // Log groups from several plugins (ECS and EKS) add up; other keys belong to one plugin.
          if (existing != merged->aws.end() && existing->is_array() && value.is_array()) {
            existing->insert(existing->end(), value.begin(), value.end());
          } else {
            merged->aws[key] = value;
          }
        }
      }
      if (!found->origin.empty() && found->origin_precedence >= merged_precedence) {
        merged->origin = found->origin;
        merged_precedence = found->origin_precedence;
      }
    } catch (const std::exception& e) {
      // Debug level: being off EC2 (or ECS, ...) is the normal case for most of these failures.
      logger_.log(LogLevel::kDebug, "plugin " + name + " contributes nothing: " + e.what());
    } catch (...) {
      logger_.log(LogLevel::kDebug, "plugin " + name + " contributes nothing: unknown error");
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (generation != generation_) return;  // superseded by a later configure
  result_ = std::move(merged);
  result_version_.fetch_add(1, std::memory_order_release);
  running_ = false;
  done_cv_.notify_all();
}

}  // namespace xray::detail
