// xray/plugin.hpp: environment detection that adds `aws.*` metadata and `origin` to segments.
//
//   config.plugins = {xray::plugins::ec2(), xray::plugins::ecs()};
//
// The recorder runs every configured plugin once, on a background thread, within a shared time
// budget, after `configure()` returns. Documents serialized after detection finished carry the
// merged metadata; the most specific origin wins (Elastic Beanstalk > EKS > ECS > EC2).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "xray/export.hpp"

namespace xray {

// What a plugin found. `aws` is merged into the segment's `aws` object (e.g. {"ec2": {...}}).
struct PluginMetadata {
  std::string origin;     // e.g. "AWS::EC2::Instance"; empty when the plugin sets none
  nlohmann::json aws = nlohmann::json::object();
  // When several plugins report an origin, the highest precedence wins (on a tie, the plugin later
  // in Config::plugins). The built-in plugins set origin_rank(origin): Elastic Beanstalk > EKS >
  // ECS > EC2, the most specific environment first.
  int origin_precedence = 0;
};

// Thread safety: `detect` is called from one SDK background thread, never concurrently with itself.
class XRAY_EXPORT Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string_view name() const noexcept = 0;
  // Detects the environment, returning by `deadline`; nullopt when not in this environment or when
  // detection failed. May throw: the recorder logs and ignores the plugin.
  virtual std::optional<PluginMetadata> detect(
      std::chrono::steady_clock::time_point deadline) const = 0;
};

// The built-in plugins' precedence for their origin; higher wins. Unknown origins rank lowest (0).
XRAY_EXPORT int origin_rank(std::string_view origin) noexcept;

}  // namespace xray
