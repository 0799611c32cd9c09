// Internal: reading fields of JSON that came from outside (metadata endpoints, the sampling proxy)
// without exceptions: nlohmann's value() and get() throw on a type mismatch, answers from the
// network must not.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace xray::detail {

// `object[key]` when `object` is an object and that member is a string, else `fallback`.
inline std::string string_field(const nlohmann::json& object, const char* key,
                                std::string_view fallback = {}) {
  if (!object.is_object()) return std::string(fallback);
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>()
                                                     : std::string(fallback);
}

}  // namespace xray::detail
