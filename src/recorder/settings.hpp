// Internal: the effective configuration (code + environment), as an immutable snapshot.
//
// Each segment keeps the snapshot it began with, so `configure()` affects only segments begun
// afterwards and a request never sees half of a new configuration.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "xray/config.hpp"
#include "xray/sampling.hpp"

namespace xray::detail {

struct Settings {
  bool enabled = true;
  std::string service_name;
  std::string tracing_name;  // AWS_XRAY_TRACING_NAME: replaces every segment's name when set
  std::string service_version;
  ContextMissing context_missing = ContextMissing::kLogError;
  std::function<void(std::string_view)> context_missing_callback;
  std::shared_ptr<SamplingStrategy> sampler;  // null: sample everything
  bool noop_ids = true;  // unsampled entities get all-zero ids (AWS_XRAY_NOOP_ID != false)
  bool collect_sql_queries = false;
  std::size_t streaming_threshold = 100;
  std::size_t streaming_threshold_bytes = 48750;
  std::chrono::milliseconds abandoned_subsegment_timeout{60000};
  std::chrono::milliseconds in_progress_after{0};
};

}  // namespace xray::detail
