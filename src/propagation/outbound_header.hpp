// Internal: the X-Amzn-Trace-Id a downstream call made under an entity carries (spec §4.4).
// Thread safety: reads only the entity's immutable fields and its tree's.
#pragma once

#include "model/entity.hpp"
#include "xray/trace_header.hpp"

namespace xray::detail {

// Root, Parent (= entity's id, omitted for no-op ids), Sampled and the incoming extras.
TraceHeader outbound_header(const Entity& entity) noexcept;

}  // namespace xray::detail
