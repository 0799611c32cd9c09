#include "sampling/centralized_sampling.hpp"

#include <chrono>
#include <vector>

#include "base/fork.hpp"
#include "http/http_client.hpp"
#include "model/ids.hpp"
#include "sampling/default_sampling.hpp"

namespace xray::detail {
namespace {

constexpr double kRetiredGraceSeconds = 60;
constexpr auto kHttpTimeout = std::chrono::seconds(2);

std::chrono::steady_clock::duration seconds(double value) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(value));
}

std::mutex& client_id_mutex() {
  static auto* mutex = new std::mutex();  // outlives static destruction; locked across fork
  return *mutex;
}

}  // namespace

std::string process_client_id() {
  // One per process (spec §7.5), drawn again in a forked child.
  static std::string id;
  static unsigned generation = 0;
  std::lock_guard<std::mutex> lock(client_id_mutex());
  unsigned now = fork_generation();
  if (id.empty() || generation != now) {
    id = new_client_id();
    generation = now;
  }
  return id;
}

std::string new_client_id() {
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char bytes[12];
  random_bytes(bytes, sizeof bytes);
  std::string id;
  for (unsigned char byte : bytes) {
    id += kHex[byte >> 4];
    id += kHex[byte & 0xf];
  }
  return id;
}

CentralizedRuleCache::CentralizedRuleCache(Logger& logger, CentralizedOptions options)
    : logger_(logger),
      options_(std::move(options)),
      generation_(fork_generation()),
      endpoint_(default_daemon_address().tcp),
      client_id_(process_client_id()) {
}

CentralizedRuleCache::~CentralizedRuleCache() {
  stop();
  current_.store(nullptr);
}

double CentralizedRuleCache::now() const noexcept {
  return options_.now ? options_.now() : coarse_epoch_time();
}

double CentralizedRuleCache::draw() const noexcept {
  return options_.draw ? options_.draw() : uniform_draw();
}

std::string CentralizedRuleCache::client_id() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return client_id_;
}

void CentralizedRuleCache::set_endpoint(const Endpoint& tcp) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  endpoint_ = tcp;
}

bool CentralizedRuleCache::fresh(double now) const noexcept {
  double fetched = last_rules_fetch_.load(std::memory_order_acquire);
  return fetched > 0 && now - fetched <= kManifestTtlSeconds;
}

const CentralizedRule* CentralizedRuleCache::match(const SamplingRequest& request,
                                                   double now) noexcept {
  if (!activated_.load(std::memory_order_relaxed) ||
      generation_.load(std::memory_order_relaxed) != fork_generation()) {
    activate();
  }
  if (!fresh(now)) return nullptr;
  const RuleSet* rules = current_.load(std::memory_order_acquire);
  return rules ? rules->match(request) : nullptr;
}

void CentralizedRuleCache::activate() noexcept {
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    unsigned generation = fork_generation();
    if (generation_.load(std::memory_order_relaxed) != generation) {
      // Forked: the parent's poller does not exist here, and it may have held the poll mutex. A
      // new client, a poll mutex and a poller of our own (the old ones are leaked, once).
      (void)poller_.release();
      (void)poll_mutex_.release();
      poll_mutex_ = std::make_unique<std::mutex>();
      client_id_ = process_client_id();
      generation_.store(generation, std::memory_order_relaxed);
    }
    activated_.store(true, std::memory_order_relaxed);
    rules_requested_ = true;  // the first fetch happens at the first decision (spec §7.4)
    if (options_.start_poller && !poller_ && !stop_requested_.load(std::memory_order_relaxed)) {
      poller_ = std::make_unique<std::thread>(&CentralizedRuleCache::run, this);
    }
  } catch (...) {
    // No thread: local rules keep deciding.
  }
  wake_.notify_one();
}

namespace {

// How many caches the forking thread has locked for this fork(). The process's client id lock is
// one for every cache: the first cache locked takes it and the last one unlocked releases it (two
// recorders with centralized sampling each lock their cache; locking the shared mutex once per
// cache hung fork() in its prepare handler). Thread-local: the parent and child handlers run on
// the thread that forked (in the child, its copy).
thread_local int caches_locked_for_fork = 0;

}  // namespace

void CentralizedRuleCache::lock_for_fork() noexcept {
  mutex_.lock();
  if (caches_locked_for_fork++ == 0) client_id_mutex().lock();
}

void CentralizedRuleCache::unlock_after_fork() noexcept {
  if (--caches_locked_for_fork == 0) client_id_mutex().unlock();
  mutex_.unlock();
}

void CentralizedRuleCache::stop() noexcept {
  std::unique_ptr<std::thread> poller;
  {
    // Set under the lock, so the poller's wait cannot miss it; a poll in progress sees it within
    // a few milliseconds (between pages, and inside the HTTP exchange), so the join is short.
    std::lock_guard<std::mutex> lock(mutex_);
    stop_requested_.store(true, std::memory_order_relaxed);
    poller = std::move(poller_);
  }
  wake_.notify_one();
  if (poller && poller->joinable()) poller->join();
}

void CentralizedRuleCache::run() noexcept {
  // The thread's generator (uniform_draw): no std::random_device, which may throw here.
  auto uniform = [](double max) { return uniform_draw() * max; };
  auto next_rules = std::chrono::steady_clock::now();
  auto next_targets = next_rules + seconds(kTargetsInterval + uniform(0.1));
  std::unique_lock<std::mutex> lock(mutex_);
  auto stopping = [this] { return stop_requested_.load(std::memory_order_relaxed); };
  while (!stopping()) {
    auto wake_at = rules_requested_ ? std::chrono::steady_clock::now() : std::min(next_rules, next_targets);
    if (wake_.wait_until(lock, wake_at, [&] { return stopping() || rules_requested_; }) && stopping()) break;
    auto now = std::chrono::steady_clock::now();
    bool rules_due = rules_requested_ || now >= next_rules;
    bool targets_due = now >= next_targets;
    rules_requested_ = false;
    lock.unlock();
    if (rules_due) {
      refresh_rules(this->now());
      next_rules = std::chrono::steady_clock::now() + seconds(kRulesInterval + uniform(5));
    }
    if (targets_due) {
      refresh_targets(this->now());
      next_targets = std::chrono::steady_clock::now() + seconds(kTargetsInterval + uniform(0.1));
    }
    lock.lock();
  }
}

std::optional<std::string> CentralizedRuleCache::post(const char* path, const std::string& body,
                                                      std::string* error) {
  HttpRequest request;
  request.method = "POST";
  {
    std::lock_guard<std::mutex> lock(mutex_);
    request.host = endpoint_.host;
    request.port = endpoint_.port;
  }
  request.target = path;
  request.headers = {{"Content-Type", "application/json"}};
  request.body = body;
  HttpDeadlines deadlines;
  deadlines.connect = std::chrono::duration_cast<std::chrono::milliseconds>(kHttpTimeout);
  deadlines.deadline = std::chrono::steady_clock::now() + kHttpTimeout;
  deadlines.max_body_bytes = kMaxResponseBytes;
  deadlines.cancel = &stop_requested_;
  HttpResult result = http_request(request, deadlines);
  if (!result.ok()) {
    *error = std::string(path) + " via " + to_string(Endpoint{request.host, request.port}) + ": " +
             result.error;
    return std::nullopt;
  }
  if (result.response->status < 200 || result.response->status >= 300) {
    *error = std::string(path) + ": HTTP " + std::to_string(result.response->status);
    return std::nullopt;
  }
  return std::move(result.response->body);
}

bool CentralizedRuleCache::refresh_rules(double now) noexcept {
  std::lock_guard<std::mutex> poll_lock(*poll_mutex_);
  try {
    std::vector<CentralizedRule> rules;
    std::vector<std::string> skipped;
    std::string token;
    std::string error;
    bool truncated = false;
    for (int page = 0; page < kMaxPages; ++page) {
      if (stop_requested_.load(std::memory_order_relaxed)) return false;
      nlohmann::json request = {{"NextToken", token.empty() ? nlohmann::json() : nlohmann::json(token)}};
      auto body = post("/GetSamplingRules", request.dump(), &error);
      std::optional<std::vector<CentralizedRule>> parsed;
      if (body) parsed = parse_sampling_rules(*body, &token, &skipped, &error);
      if (!parsed) {
        logger_.log_limited(LogKind::kSamplingPoll, LogLevel::kWarn,
                            "sampling rules not refreshed: " + error);
        return false;
      }
      for (auto& rule : *parsed) {
        if (rules.size() == kMaxRules) {
          truncated = true;
          break;
        }
        rules.push_back(std::move(rule));
      }
      if (token.empty() || truncated) break;
    }
    if (truncated) {
      logger_.log(LogLevel::kWarn, "sampling: the proxy serves more than " +
                                       std::to_string(kMaxRules) +
                                       " rules; only the first pages' rules are used");
    }
    for (std::size_t i = 0; i < skipped.size() && i < 20; ++i) {
      logger_.log(LogLevel::kDebug, "sampling: skipped " + skipped[i]);
    }
    if (stop_requested_.load(std::memory_order_relaxed)) return false;
    install_locked(std::move(rules), now);
    return true;
  } catch (const std::exception& e) {
    logger_.log_limited(LogKind::kSamplingPoll, LogLevel::kWarn,
                        std::string("sampling rules not refreshed: ") + e.what());
    return false;
  }
}

void CentralizedRuleCache::install_locked(std::vector<CentralizedRule> rules, double now) {
  // Built (sorted, state carried over, patterns compiled) under poll_mutex_ only: owned_ changes
  // only under it, and neither a decision nor stop() waits for this.
  auto next = std::make_unique<const RuleSet>(make_rule_set(std::move(rules), owned_.get()));
  const std::size_t count = next->rules.size();
  std::vector<std::unique_ptr<const RuleSet>> retire;  // freed below, outside the lock
  {
    std::lock_guard<std::mutex> lock(mutex_);
    current_.store(next.get(), std::memory_order_release);
    if (owned_) retired_.emplace_back(now, std::move(owned_));
    owned_ = std::move(next);
    while (!retired_.empty() && now - retired_.front().first > kRetiredGraceSeconds) {
      retire.push_back(std::move(retired_.front().second));
      retired_.pop_front();
    }
    last_rules_fetch_.store(now, std::memory_order_release);
  }
  logger_.log(LogLevel::kDebug, "sampling: " + std::to_string(count) + " centralized rules in use");
}

bool CentralizedRuleCache::install_rules(std::vector<CentralizedRule> rules, double now) noexcept {
  std::lock_guard<std::mutex> poll_lock(*poll_mutex_);
  try {
    if (rules.size() > kMaxRules) rules.resize(kMaxRules);  // the bound refresh_rules keeps too
    install_locked(std::move(rules), now);
    return true;
  } catch (const std::exception& e) {
    logger_.log_limited(LogKind::kSamplingPoll, LogLevel::kWarn,
                        std::string("sampling rules not installed: ") + e.what());
    return false;
  }
}

bool CentralizedRuleCache::refresh_targets(double now) noexcept {
  bool fetch_rules = false;
  {
    std::lock_guard<std::mutex> poll_lock(*poll_mutex_);
    try {
      const RuleSet* rules = current_.load(std::memory_order_acquire);
      if (rules == nullptr) return false;
      auto statistics = statistics_document(*rules, now, client_id());
      if (!statistics) return true;  // nothing due: no call
      std::string error;
      auto body = post("/SamplingTargets", statistics->dump(), &error);
      std::optional<TargetsOutcome> outcome;
      if (body) outcome = apply_sampling_targets(*rules, *body, &error);
      if (!outcome) {
        logger_.log_limited(LogKind::kSamplingPoll, LogLevel::kWarn,
                            "sampling targets not refreshed: " + error);
        return false;
      }
      for (const auto& problem : outcome->problems) {
        logger_.log(LogLevel::kWarn, "sampling statistics not processed: " + problem);
      }
      fetch_rules = outcome->refresh_rules ||
                    outcome->last_rule_modification > last_rules_fetch_.load(std::memory_order_acquire);
    } catch (const std::exception& e) {
      logger_.log_limited(LogKind::kSamplingPoll, LogLevel::kWarn,
                          std::string("sampling targets not refreshed: ") + e.what());
      return false;
    }
  }
  if (fetch_rules) refresh_rules(now);
  return true;
}

CentralizedSampling::CentralizedSampling(std::shared_ptr<CentralizedRuleCache> cache,
                                         std::shared_ptr<SamplingStrategy> fallback)
    : cache_(std::move(cache)), fallback_(std::move(fallback)) {}

SamplingDecision CentralizedSampling::decide(const SamplingRequest& request) noexcept {
  double now = cache_->now();
  if (const CentralizedRule* rule = cache_->match(request, now)) {
    SamplingDecision decision;
    decision.sampled = rule->state->decide(now, cache_->draw(), rule->reservoir_size);
    try {
      decision.rule_name = rule->name;  // on sampled segments: aws.xray.sampling_rule_name
    } catch (...) {
    }
    return decision;
  }
  return fallback_->decide(request);
}

std::string CentralizedSampling::describe() const {
  // What decides when a decision names no rule: the local fallback.
  return "the local fallback of centralized sampling (no centralized rule in force): " +
         fallback_->describe();
}

}  // namespace xray::detail
