#include "xray/context.hpp"

#include <algorithm>

#include "context/context_stack.hpp"
#include "model/ids.hpp"
#include "model/json_writer.hpp"
#include "propagation/outbound_header.hpp"

namespace xray {
namespace detail {

ContextStack& this_thread_stack() noexcept {
  thread_local ContextStack stack;
  return stack;
}

const std::shared_ptr<Entity>* current_entity() noexcept {
  ContextStack& stack = this_thread_stack();
  return stack.empty() ? nullptr : &stack.back();
}

void push_current(std::shared_ptr<Entity> entity) noexcept {
  this_thread_stack().push_back(std::move(entity));
}

void remove_current(const Entity* entity) noexcept {
  ContextStack& stack = this_thread_stack();
  if (!stack.empty() && stack.back().get() == entity) {  // scopes mostly end in order
    stack.pop_back();
    return;
  }
  auto found = std::find_if(stack.rbegin(), stack.rend(),
                            [entity](const auto& item) { return item.get() == entity; });
  if (found != stack.rend()) stack.erase(std::next(found).base());
}

}  // namespace detail

bool Context::sampled() const noexcept { return entity_ && entity_->tree->sampled; }

std::string Context::trace_id() const noexcept {
  return entity_ ? entity_->tree->trace_id.str() : std::string();
}

std::string Context::entity_id() const noexcept {
  return entity_ && entity_->id != 0 ? detail::format_id(entity_->id) : std::string();
}

TraceHeader Context::outbound_header() const noexcept {
  return entity_ ? detail::outbound_header(*entity_) : TraceHeader();
}

Context current_context() noexcept {
  const auto* top = detail::current_entity();
  return top ? detail::ContextAccess::make(*top) : Context();
}

ContextScope::ContextScope(Context context) noexcept {
  if (context.empty()) return;
  detail::ContextStack& stack = detail::this_thread_stack();
  stack_ = &stack;
  depth_ = stack.size();
  stack.push_back(detail::ContextAccess::entity(context));
}

ContextScope::~ContextScope() { restore(); }

ContextScope::ContextScope(ContextScope&& other) noexcept
    : stack_(std::exchange(other.stack_, nullptr)), depth_(other.depth_) {}

ContextScope& ContextScope::operator=(ContextScope&& other) noexcept {
  if (this != &other) {
    restore();
    stack_ = std::exchange(other.stack_, nullptr);
    depth_ = other.depth_;
  }
  return *this;
}

void ContextScope::restore() noexcept {
  if (stack_ == nullptr) return;
  detail::ContextStack& stack = detail::this_thread_stack();
  // Ending on another thread would truncate that thread's stack: leave both alone instead.
  if (&stack == stack_ && stack.size() > depth_) stack.resize(depth_);
  stack_ = nullptr;
}

}  // namespace xray
