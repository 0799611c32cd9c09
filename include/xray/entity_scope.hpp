// xray/entity_scope.hpp: what segments and subsegments can record.
//
// `SegmentScope` and `SubsegmentScope` derive from `EntityScope`. A scope ends its entity when it is
// destroyed (or at `end()`). Every call is noexcept and cheap; on an unsampled or inert (moved-from,
// disabled, context-missing) scope every recording call is a no-op.
//
//   auto sub = recorder.begin_subsegment("inventory");
//   sub.put_annotation("sku", "A-1");          // string
//   sub.put_annotation("quantity", 3);         // integer
//   sub.put_metadata("request", {{"items", {1, 2}}});
//   sub.set_http_status(503);                  // sets http.response.status and fault
//
// Thread safety: a scope is thread-compatible (use one scope from one thread at a time); scopes on
// different threads may record into the same trace concurrently.
#pragma once

#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "xray/context.hpp"
#include "xray/export.hpp"
#include "xray/http_request_info.hpp"
#include "xray/sql_info.hpp"
#include "xray/stack.hpp"
#include "xray/trace_header.hpp"

namespace xray {

class XRAY_EXPORT EntityScope {
 public:
  // True unless inert (moved-from, disabled SDK, or returned for a missing context).
  bool active() const noexcept { return entity_ != nullptr; }
  bool sampled() const noexcept;
  std::string id() const noexcept;
  std::string trace_id() const noexcept;
  // This entity as a context, for other threads.
  Context context() const noexcept;
  // The header for an outgoing call made directly under this entity.
  TraceHeader outbound_header() const noexcept;

  // Annotations: keys of [A-Za-z0-9_]+ (others are dropped with a warning); string, integer,
  // finite floating-point or bool values. A repeated key replaces the earlier value.
  void put_annotation(std::string_view key, std::string_view value) noexcept;
  void put_annotation(std::string_view key, const char* value) noexcept;
  void put_annotation(std::string_view key, const std::string& value) noexcept {
    put_annotation(key, std::string_view(value));
  }
  void put_annotation(std::string_view key, bool value) noexcept;
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                                 !std::is_same_v<T, char>,
                             int> = 0>
  void put_annotation(std::string_view key, T value) noexcept {
    if constexpr (std::is_signed_v<T>) {
      put_integer_annotation(key, static_cast<std::int64_t>(value));
    } else {
      put_unsigned_annotation(key, static_cast<std::uint64_t>(value));
    }
  }
  template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  void put_annotation(std::string_view key, T value) noexcept {
    put_double_annotation(key, static_cast<double>(value));
  }

  // Metadata: any JSON under a namespace (default "default"). Namespaces starting with "AWS." are
  // reserved and refused. A repeated key in a namespace replaces the earlier value.
  void put_metadata(std::string_view key, nlohmann::json value,
                    std::string_view ns = "default") noexcept;

  // Records an exception as the cause. `type` is the demangled dynamic type, `message` is what();
  // std::nested_exception chains are recorded as linked exceptions. A local exception sets
  // `fault`. A remote one (`remote` = true: a downstream service answered with this error) sets no
  // flag by itself: the response status (set_http_status: 4xx error, 429 throttle, 5xx fault) or
  // an explicit set_error/set_fault decides, in either order (spec §2.5).
  void add_exception(const std::exception& e, bool remote = false) noexcept;
  // As above, with where it happened (e.g. xray::capture_stack()): at most kMaxStackFrames are
  // kept on the outermost exception, the rest counted in its `truncated`.
  void add_exception(const std::exception& e, std::vector<StackFrame> stack,
                     bool remote = false) noexcept;
  // As above, for an exception_ptr (non-std exceptions are recorded with type "unknown").
  void add_exception(const std::exception_ptr& e, bool remote = false) noexcept;
  // As above, for an error that is not a C++ exception object, e.g. the error code and message a
  // service answered with: add_exception("ResourceNotFoundException", "Requested resource not
  // found", true).
  void add_exception(std::string_view type, std::string_view message, bool remote = false) noexcept;
  // Points `cause` at an exception recorded on another entity of the trace (16 hex digits).
  void set_cause_id(std::string_view exception_id) noexcept;

  void set_error() noexcept;
  void set_throttle() noexcept;  // also sets error
  void set_fault() noexcept;

  void set_http_request(HttpRequestInfo request) noexcept;
  // Records http.response.status and sets error (4xx), throttle + error (429) or fault (5xx).
  void set_http_status(int status) noexcept;
  // Records http.response.content_length.
  void set_http_content_length(std::uint64_t length) noexcept;

  // Sets aws.<key> (e.g. "operation", "region", "request_id", "table_name").
  void set_aws(std::string_view key, nlohmann::json value) noexcept;

  // Ends the entity now; later calls on this scope do nothing. Idempotent.
  void end() noexcept;

 protected:
  EntityScope() noexcept = default;
  explicit EntityScope(std::shared_ptr<detail::Entity> entity) noexcept;
  ~EntityScope();
  EntityScope(EntityScope&& other) noexcept = default;
  EntityScope& operator=(EntityScope&& other) noexcept;
  EntityScope(const EntityScope&) = delete;
  EntityScope& operator=(const EntityScope&) = delete;

  std::shared_ptr<detail::Entity> entity_;

 private:
  void put_integer_annotation(std::string_view key, std::int64_t value) noexcept;
  void put_unsigned_annotation(std::string_view key, std::uint64_t value) noexcept;
  void put_double_annotation(std::string_view key, double value) noexcept;
};

}  // namespace xray
