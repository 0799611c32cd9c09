// Internal: centralized sampling through the daemon's TCP proxy (spec §7.4, §7.5).
//
// CentralizedRuleCache owns the rules fetched from GetSamplingRules and a poller thread of its own
// (rules every 300 s + U(0, 5 s), targets every 10 s + U(0, 100 ms), 2 s HTTP timeouts, never
// traced) that starts fetching at the first sampling decision. CentralizedSampling is the strategy:
// the first matching rule decides while the rules are fresh (fetched within the last 3600 s);
// otherwise, and when no rule matches, the local fallback decides.
//
//   auto cache = std::make_shared<CentralizedRuleCache>(logger);
//   cache->set_endpoint({"127.0.0.1", 2000});
//   auto strategy = std::make_shared<CentralizedSampling>(cache, make_default_sampling());
//
// A decision reads an immutable rule snapshot through one atomic pointer and the matched rule's
// atomics: no lock, no allocation, no I/O. Replaced snapshots are freed 60 s after retirement, far
// longer than any decision holds one.
// Thread safety: both classes are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "xray/daemon_address.hpp"
#include "log/logger.hpp"
#include "sampling/centralized_rules.hpp"
#include "xray/sampling.hpp"

namespace xray::detail {

struct CentralizedOptions {
  std::function<double()> now;   // epoch seconds; the system clock when null
  std::function<double()> draw;  // uniform in [0, 1); uniform_draw when null
  bool start_poller = true;      // false: tests call refresh_rules / refresh_targets themselves
};

class CentralizedRuleCache {
 public:
  static constexpr double kManifestTtlSeconds = 3600;
  static constexpr double kRulesInterval = 300;
  static constexpr double kTargetsInterval = 10;
  static constexpr int kMaxPages = 100;
  // The X-Ray service allows far fewer rules per account and Region (tens); past this bound the
  // rest are ignored (logged), so a runaway proxy costs neither minutes of CPU nor gigabytes.
  static constexpr std::size_t kMaxRules = 1000;
  static constexpr std::size_t kMaxResponseBytes = 4 * 1024 * 1024;

  explicit CentralizedRuleCache(Logger& logger, CentralizedOptions options = {});
  ~CentralizedRuleCache();
  CentralizedRuleCache(const CentralizedRuleCache&) = delete;
  CentralizedRuleCache& operator=(const CentralizedRuleCache&) = delete;

  void set_endpoint(const Endpoint& tcp) noexcept;
  // The deciding rule for `request` at `now`, or null when the rules are stale or none matches.
  // The first call starts the poller.
  const CentralizedRule* match(const SamplingRequest& request, double now) noexcept;
  bool fresh(double now) const noexcept;

  // One poll each, on the calling thread. Failures are logged (rate-limited) and keep the rules.
  bool refresh_rules(double now) noexcept;
  bool refresh_targets(double now) noexcept;
  // Puts `rules` (as parse_sampling_rules returns them, in any order) in force as if a rules
  // refresh at `now` had fetched them: what refresh_rules does after its last page. For
  // benchmarks and tools that hold a GetSamplingRules response already.
  bool install_rules(std::vector<CentralizedRule> rules, double now) noexcept;

  void stop() noexcept;
  // fork(2) safety (recorder/fork_safety.cpp): the first decision in a child takes mutex_ and the
  // process client id's lock. Any number of caches may be locked for one fork, on the thread that
  // forks; the client id's lock is taken once for all of them.
  void lock_for_fork() noexcept;
  void unlock_after_fork() noexcept;
  double now() const noexcept;
  double draw() const noexcept;
  std::string client_id() const;

 private:
  void activate() noexcept;
  void run() noexcept;
  std::optional<std::string> post(const char* path, const std::string& body, std::string* error);
  // Requires poll_mutex_; takes mutex_ only to swap the snapshot in.
  void install_locked(std::vector<CentralizedRule> rules, double now);

  Logger& logger_;
  const CentralizedOptions options_;

  std::atomic<const RuleSet*> current_{nullptr};
  std::atomic<double> last_rules_fetch_{0};  // epoch seconds; 0 = never
  std::atomic<bool> activated_{false};
  std::atomic<unsigned> generation_;  // fork generation the poller belongs to

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  Endpoint endpoint_;                                          // guarded
  std::string client_id_;                                      // guarded
  std::unique_ptr<const RuleSet> owned_;  // the current snapshot; written under both mutexes
  std::deque<std::pair<double, std::unique_ptr<const RuleSet>>> retired_;  // guarded
  bool rules_requested_ = false;                               // guarded
  std::unique_ptr<std::thread> poller_;                        // guarded
  // One poll at a time (poller thread and tests); guards owned_ for writing, with mutex_. Replaced
  // in a forked child, where the parent's poller may have held it.
  std::unique_ptr<std::mutex> poll_mutex_ = std::make_unique<std::mutex>();
  // Set by stop() (under mutex_, for the poller's wait); polls in progress read it without it.
  std::atomic<bool> stop_requested_{false};
};

class CentralizedSampling final : public SamplingStrategy {
 public:
  CentralizedSampling(std::shared_ptr<CentralizedRuleCache> cache,
                      std::shared_ptr<SamplingStrategy> fallback);
  SamplingDecision decide(const SamplingRequest& request) noexcept override;
  std::string describe() const override;

 private:
  std::shared_ptr<CentralizedRuleCache> cache_;
  std::shared_ptr<SamplingStrategy> fallback_;
};

// 24 lowercase hex characters (12 random bytes).
std::string new_client_id();
// The process's ClientID for SamplingTargets: the same for every recorder, new after fork().
std::string process_client_id();

}  // namespace xray::detail
