// Internal: the per-thread stack of current entities.
//
// begin_segment / begin_subsegment push; ending a scope removes its own entity wherever it is (ending
// out of order removes only that entity). ContextScope records the depth and truncates back to it.
// Thread safety: each thread has its own stack; functions act on the calling thread's stack.
#pragma once

#include <memory>
#include <vector>

#include "model/entity.hpp"
#include "xray/context.hpp"

namespace xray::detail {

using ContextStack = std::vector<std::shared_ptr<Entity>>;

ContextStack& this_thread_stack() noexcept;
// The top of the calling thread's stack, or null.
const std::shared_ptr<Entity>* current_entity() noexcept;
void push_current(std::shared_ptr<Entity> entity) noexcept;
// Removes the topmost occurrence of `entity` from the calling thread's stack, if any.
void remove_current(const Entity* entity) noexcept;

struct ContextAccess {
  static const std::shared_ptr<Entity>& entity(const Context& context) noexcept {
    return context.entity_;
  }
  static Context make(std::shared_ptr<Entity> entity) noexcept {
    Context context;
    context.entity_ = std::move(entity);
    return context;
  }
};

}  // namespace xray::detail
