#include "propagation/outbound_header.hpp"

#include "model/ids.hpp"

namespace xray::detail {

TraceHeader outbound_header(const Entity& entity) noexcept {
  const EntityTree& tree = *entity.tree;
  TraceHeader header;
  header.set_root(tree.trace_id.str());
  if (tree.pass_through) {
    // Lambda pass-through (spec §11): the function records nothing and decides nothing; the
    // downstream gets the Root and the extras, as Lambda gave them.
    for (const auto& [key, value] : tree.extras) header.add_extra(key, value);
    return header;
  }
  if (entity.id != 0) header.set_parent(format_id(entity.id));
  header.set_sampled(tree.sampled ? TraceHeader::Sampled::kYes : TraceHeader::Sampled::kNo);
  for (const auto& [key, value] : tree.extras) header.add_extra(key, value);
  return header;
}

}  // namespace xray::detail
