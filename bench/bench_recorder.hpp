// Shared by the benchmark programs: one Recorder that samples everything and sends to the discard
// port (nothing listens; sends just fail), so a benchmark measures the request thread's work.
#pragma once

#include "xray/recorder.hpp"

namespace xray::bench {

inline Recorder& bench_recorder() {
  static Recorder* recorder = [] {
    auto* r = new Recorder();  // never destroyed: usable until the process exits
    Config config;
    config.service_name = "bench";
    config.daemon_address = "127.0.0.1:9";
    config.sampling = false;
    config.log_level = LogLevel::kSilent;
    r->configure(config);
    return r;
  }();
  return *recorder;
}

}  // namespace xray::bench
