// xray/context.hpp: carrying the current segment or subsegment across threads.
//
// Each thread has a stack of current entities: `begin_segment` / `begin_subsegment` push, ending a
// scope removes its entity. A `Context` captures the top of that stack so work continued elsewhere
// (another thread, a Boost.Asio handler) records under the same parent:
//
//   xray::Context context = xray::current_context();
//   pool.post([context] {
//     xray::ContextScope attach(context);                 // current on this thread until `attach` ends
//     auto job = xray::Recorder::global().begin_subsegment("job");
//   });
//
// A Context shares ownership of its entity: the segment is sent when it and all its subsegments have
// ended, whether or not contexts to it still exist.
#pragma once

#include <memory>
#include <string>

#include "xray/export.hpp"
#include "xray/trace_header.hpp"

namespace xray {
namespace detail {
class Entity;
struct ContextAccess;
}  // namespace detail

// Thread safety: a value type; a Context may be copied to and used on any thread.
class XRAY_EXPORT Context {
 public:
  Context() noexcept = default;
  Context(const Context&) noexcept = default;
  Context(Context&&) noexcept = default;
  Context& operator=(const Context&) noexcept = default;
  Context& operator=(Context&&) noexcept = default;
  ~Context() = default;

  // True when the context holds no entity (the default; also returned when tracing is disabled).
  bool empty() const noexcept { return entity_ == nullptr; }
  explicit operator bool() const noexcept { return !empty(); }
  bool sampled() const noexcept;
  // "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx", or "" when empty.
  std::string trace_id() const noexcept;
  // 16 hex digits, or "" when empty.
  std::string entity_id() const noexcept;
  // The header for a call made from this context: Root, Parent (this entity), Sampled, and the
  // extras of the incoming header. Empty when the context is empty.
  TraceHeader outbound_header() const noexcept;

 private:
  friend struct detail::ContextAccess;
  std::shared_ptr<detail::Entity> entity_;
};

// The entity on top of this thread's stack, or an empty Context.
XRAY_EXPORT Context current_context() noexcept;

// Makes `context` current on this thread until the scope ends, then restores the thread's previous
// stack exactly. Must end on the thread that created it. Move-only; a moved-from scope does nothing.
class XRAY_EXPORT ContextScope {
 public:
  explicit ContextScope(Context context) noexcept;
  ~ContextScope();
  ContextScope(ContextScope&& other) noexcept;
  ContextScope& operator=(ContextScope&& other) noexcept;
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;

 private:
  void restore() noexcept;
  void* stack_ = nullptr;  // the owning thread's stack; null when inert
  std::size_t depth_ = 0;  // stack depth to restore
};

}  // namespace xray
