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

#include "base/environment.hpp"
#include "model/entity.hpp"
#include "model/names.hpp"
#include "xray/config.hpp"
#include "xray/sampling.hpp"

namespace xray::detail {

// TreeSettings (model/entity.hpp) holds what each trace's lifecycle reads: noop_ids,
// collect_sql_queries, the streaming thresholds and the abandoned / in-progress delays.
struct Settings : TreeSettings {
  bool enabled = true;
  std::string service_name;
  std::string tracing_name;  // AWS_XRAY_TRACING_NAME: replaces every segment's name when set
  // The two above as segment names (sanitize_name), worked out once per snapshot rather than per
  // segment; empty when nothing valid is left (begin_segment then cleans, and warns, as for any
  // name).
  std::string service_segment_name;
  std::string tracing_segment_name;
  std::string service_version;
  ContextMissing context_missing = ContextMissing::kLogError;
  std::function<void(std::string_view)> context_missing_callback;
  std::shared_ptr<SamplingStrategy> sampler;  // null: sample everything
  bool lambda = false;  // AWS Lambda: no segments of our own, only subsegments under facades
  // The environment configure() read (empty: the process's); plugins and Lambda invocations
  // read theirs through it too.
  GetEnv getenv;
};

}  // namespace xray::detail
