// Test support: configure a Recorder with an explicit environment instead of the process's, so
// tests neither depend on nor change the real environment.
//
//   xray::testing::FakeDaemon daemon;
//   xray::Recorder recorder;
//   xray::testing::configure(recorder, xray::testing::config_for(daemon), {{"AWS_XRAY_NOOP_ID", "false"}});
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "recorder/recorder_core.hpp"
#include "support/fake_daemon.hpp"
#include "xray/recorder.hpp"

namespace xray::testing {

using EnvironmentMap = std::map<std::string, std::string>;

inline ConfigResult configure(Recorder& recorder, const Config& config, EnvironmentMap env = {}) {
  auto vars = std::make_shared<EnvironmentMap>(std::move(env));
  return detail::RecorderAccess::core(recorder).configure(
      config, [vars](const char* name) -> const char* {
        auto found = vars->find(name);
        return found == vars->end() ? nullptr : found->second.c_str();
      });
}

// A configuration that sends to `daemon` and samples everything.
inline Config config_for(const FakeDaemon& daemon, std::string service = "test-service") {
  Config config;
  config.service_name = std::move(service);
  config.daemon_address = daemon.address();
  config.sampling = false;
  return config;
}

// A log sink that keeps every line; thread-safe.
class CapturedLog {
 public:
  LogSink sink() {
    return [this](LogLevel level, std::string_view line) {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.emplace_back(level, std::string(line));
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const auto& entry : lines_) out.push_back(entry.second);
    return out;
  }
  bool contains(std::string_view text) const {
    for (const auto& line : lines()) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

}  // namespace xray::testing
