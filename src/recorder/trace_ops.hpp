// Internal: trace-level operations on entities shared by the scopes and contexts.
#pragma once

#include "model/entity.hpp"
#include "xray/trace_header.hpp"

namespace xray::detail {

// Root, Parent (= entity's id, omitted for no-op ids), Sampled and the incoming extras.
TraceHeader outbound_header(const Entity& entity) noexcept;

}  // namespace xray::detail
