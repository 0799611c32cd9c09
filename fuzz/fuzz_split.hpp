// Shared by the plugin fuzz targets: an input holding several documents separated by NUL bytes
// (which valid JSON cannot contain), so seed files stay readable: `{"container"...}\0{"task"...}`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace xray::fuzz {

// The first `count` NUL-separated parts; missing parts are nullopt, the last part keeps the rest.
inline std::vector<std::optional<std::string_view>> split_parts(const std::uint8_t* data,
                                                                std::size_t size,
                                                                std::size_t count) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<std::optional<std::string_view>> parts;
  bool more = true;
  for (std::size_t i = 0; i < count; ++i) {
    if (!more) {
      parts.emplace_back(std::nullopt);
      continue;
    }
    const std::size_t end = i + 1 == count ? std::string_view::npos : rest.find('\0');
    parts.emplace_back(rest.substr(0, end));
    if (end == std::string_view::npos) {
      more = false;
    } else {
      rest.remove_prefix(end + 1);
    }
  }
  return parts;
}

}  // namespace xray::fuzz
