// RecorderCore::configure: validation of a Config, the environment's overrides, and the new
// settings snapshot applied to the emitter, the sampler and plugin detection.
#include "recorder/recorder_core.hpp"

#include "model/names.hpp"

#include "sampling/centralized_sampling.hpp"
#include "sampling/default_sampling.hpp"
#include "sampling/local_rules.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

namespace xray::detail {
namespace {

// Spec §11: the official SDKs create /tmp/.aws-xray/initialized when they start in Lambda (the
// Lambda service reads it); best effort.
void mark_lambda_initialized() noexcept {
  if (::mkdir("/tmp/.aws-xray", 0755) != 0 && errno != EEXIST) return;
  if (std::FILE* file = std::fopen("/tmp/.aws-xray/initialized", "a")) std::fclose(file);
}

}  // namespace

ConfigResult RecorderCore::configure(const Config& config, const GetEnv& getenv) noexcept {
  ConfigResult result;
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    auto warn = [this](const std::string& line) { logger_.log(LogLevel::kWarn, line); };
    // Log sink and level first, so that what follows is reported where the user wants it.
    logger_.set_sink(config.log_sink);

    Environment env = read_environment(warn, getenv);
    logger_.set_level(env.log_level.value_or(config.log_level));

    Config next = config;
    if (settings_ != nullptr && config.service_name.empty()) {
      result.errors.push_back("service_name: must not be empty; keeping \"" +
                              applied_.service_name + "\"");
      next.service_name = applied_.service_name;
    }
    if (config.daemon_address.empty()) {
      code_address_ = default_daemon_address();
    } else {
      std::string error;
      if (auto parsed = parse_daemon_address(config.daemon_address, &error)) {
        code_address_ = *parsed;
      } else {
        result.errors.push_back("daemon_address \"" + config.daemon_address + "\": " + error);
        next.daemon_address = applied_.daemon_address;
      }
    }
    if (config.max_datagram_bytes < kMinDatagramBytes || config.max_datagram_bytes > kMaxDatagramBytes) {
      result.errors.push_back("max_datagram_bytes: must be " + std::to_string(kMinDatagramBytes) +
                              " to " + std::to_string(kMaxDatagramBytes) + "; keeping " +
                              std::to_string(applied_.max_datagram_bytes));
      next.max_datagram_bytes = applied_.max_datagram_bytes;
    }
    if (!(config.emit_rate >= 0) || config.emit_burst == 0) {
      result.errors.push_back("emit_rate must be >= 0 and emit_burst >= 1; keeping the previous pace");
      next.emit_rate = applied_.emit_rate;
      next.emit_burst = applied_.emit_burst;
    }
    if (config.queue_capacity == 0) {
      result.errors.push_back("queue_capacity: must be at least 1; keeping " +
                              std::to_string(applied_.queue_capacity));
      next.queue_capacity = applied_.queue_capacity;
    }

    auto settings = std::make_shared<Settings>();
    settings->enabled = next.enabled && env.sdk_enabled.value_or(true);
    settings->service_name = next.service_name;
    settings->tracing_name = env.tracing_name.value_or("");
    settings->service_segment_name = sanitize_name(settings->service_name);
    settings->tracing_segment_name = sanitize_name(settings->tracing_name);
    settings->service_version = next.service_version;
    settings->context_missing = env.context_missing.value_or(next.context_missing);
    settings->context_missing_callback = next.context_missing_callback;
    // One clock for the recorder (tests replace it with set_clock): entity times, the samplers'
    // reservoirs and the centralized rules' freshness all read it. The samplers belong to this
    // core (directly, or through settings that its trees keep alive with it), so `this` outlives
    // them.
    const auto epoch_seconds = [this]() -> std::int64_t {
      return clock_->system_now_us() / 1'000'000;
    };
    if (next.sampling.enabled()) {
      if (next.sampling.strategy()) {
        settings->sampler = next.sampling.strategy();
      } else {
        if (next.sampling.rules_source() != Sampling::RulesSource::kNone) {
          // A rejected manifest falls back to the built-in default (spec §7.2).
          std::string error;
          settings->sampler = make_sampling_from_rules(next.sampling, &error, epoch_seconds);
          if (!settings->sampler) {
            result.errors.push_back(error + "; using the default sampling rule");
          }
        }
        // One default strategy per recorder, so its reservoir survives reconfiguration.
        if (!settings->sampler) {
          if (!default_sampler_) {
            default_sampler_ = std::make_shared<FixedRateSampling>(
                kDefaultFixedTarget, kDefaultRate, epoch_seconds);
          }
          settings->sampler = default_sampler_;
        }
      }
    }
    settings->lambda = next.lambda.value_or(env.in_lambda);
    settings->getenv = getenv;
    const DaemonAddress daemon = env.daemon_address.value_or(code_address_);
    if (settings->sampler && next.sampling.centralized() && settings->enabled && !settings->lambda) {
      // Centralized rules with the local strategy as fallback; one rule cache (and poller) per
      // recorder, so rules and reservoirs survive reconfiguration.
      if (!rule_cache_) {
        CentralizedOptions options;
        options.now = [this] { return static_cast<double>(clock_->system_now_us()) / 1e6; };
        rule_cache_ = std::make_shared<CentralizedRuleCache>(logger_, std::move(options));
      }
      rule_cache_->set_endpoint(daemon.tcp);
      settings->sampler = std::make_shared<CentralizedSampling>(rule_cache_, settings->sampler);
    }
    settings->noop_ids = env.noop_ids.value_or(true);
    settings->collect_sql_queries = next.collect_sql_queries || env.collect_sql_queries.value_or(false);
    settings->streaming_threshold = next.streaming_threshold;
    settings->streaming_threshold_bytes = next.streaming_threshold_bytes != 0
                                              ? next.streaming_threshold_bytes
                                              : next.max_datagram_bytes / 4 * 3;
    settings->abandoned_subsegment_timeout = next.abandoned_subsegment_timeout;
    settings->in_progress_after = next.in_progress_after;
    if (settings->lambda) {
      // Spec §11: every subsegment goes out as soon as it ends; nothing may wait for the end of
      // an invocation that the environment freezes right after.
      settings->streaming_threshold = 0;
      settings->streaming_threshold_bytes = 0;
      mark_lambda_initialized();
    }

    EmitterOptions emission;
    emission.address = daemon;
    emission.queue_capacity = next.queue_capacity;
    emission.queue_capacity_bytes = next.queue_capacity_bytes;
    emission.max_datagram_bytes = next.max_datagram_bytes;
    emission.datagrams_per_second = next.emit_rate;
    emission.burst = next.emit_burst;
    emitter_->configure(emission);
    shutdown_timeout_ = next.shutdown_timeout;
    applied_ = std::move(next);
    settings_ = std::move(settings);
    settings_generation_.fetch_add(1, std::memory_order_release);
    if (settings_->enabled && settings_->lambda && !applied_.plugins.empty()) {
      logger_.log(LogLevel::kDebug, "plugins are not run in AWS Lambda");
    }
    if (settings_->enabled) plugins_.start(settings_->lambda ? std::vector<std::shared_ptr<const Plugin>>{} : applied_.plugins,
                                           applied_.plugin_budget, settings_->getenv);
  } catch (const std::exception& e) {
    result.errors.push_back(std::string("configure failed: ") + e.what());
  }
  for (const auto& error : result.errors) logger_.log(LogLevel::kError, "configure: " + error);
  return result;
}

}  // namespace xray::detail
