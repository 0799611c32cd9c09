// console_assets.hpp: the web console's files (console/*.html, *.js, *.css), compiled into the
// binary by embed_assets.cmake, so the console works offline and needs no files next to the tool.
//
//   if (const auto* asset = xray::local::find_console_asset("/app.js")) reply(asset->body());
//
// Thread safety: immutable data; safe to read concurrently.
#pragma once

#include <cstddef>
#include <string_view>

namespace xray::local {

struct ConsoleAsset {
  std::string_view path;          // "/index.html", "/app.js", ...
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  const unsigned char* data;
  std::size_t size;

  std::string_view body() const { return {reinterpret_cast<const char*>(data), size}; }
};

// The asset served at `path` ("/" is "/index.html"), or nullptr.
const ConsoleAsset* find_console_asset(std::string_view path) noexcept;

}  // namespace xray::local
