// xray/errors.hpp: the one exception the SDK throws, and only when asked to.
#pragma once

#include <stdexcept>
#include <string>

#include "xray/export.hpp"

namespace xray {

// Thrown by operations that need a current segment or subsegment when none exists, only under
// ContextMissing::kRuntimeError (config.context_missing or AWS_XRAY_CONTEXT_MISSING=RUNTIME_ERROR).
class XRAY_EXPORT ContextMissingError : public std::runtime_error {
 public:
  explicit ContextMissingError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace xray
