// trace_assembly.hpp: one trace's documents, joined into the trees they describe.
//
//   std::vector<const nlohmann::json*> documents = ...;  // segments and independent subsegments
//   nlohmann::json roots = xray::local::assemble(documents);
//
// A trace reaches the daemon in pieces (wire spec §6.1): segments, each with its embedded
// subsegments, and independent subsegments (`type: "subsegment"`) sent on their own, whose
// `parent_id` names a segment or subsegment that may arrive before or after them. `assemble`
// places every independent subsegment under its parent, wherever that parent is embedded. When
// the same entity id appears twice (embedded `in_progress`, later sent complete on its own, or the
// other way round) the complete version wins, the independent one on a tie. Independent
// subsegments whose parent never arrived, or whose parent links form a cycle, stay at the top
// level. Children are ordered by `start_time`, top-level segments first.
//
// Returns a JSON array of entities (objects, `subsegments` filled in); the inputs are not changed.
// Never throws on odd documents (a field of the wrong type is treated as absent); allocation
// failure aside.
//
// Thread safety: free function on values; safe to call concurrently.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

namespace xray::local {

nlohmann::json assemble(const std::vector<const nlohmann::json*>& documents);

// True when `entity` has `in_progress: true` (and so no end_time yet).
bool in_progress(const nlohmann::json& entity) noexcept;

}  // namespace xray::local
