#include "xray/entity_scope.hpp"

#include <cxxabi.h>

#include <cmath>
#include <cstdlib>
#include <type_traits>
#include <typeinfo>
#include <variant>

#include "context/context_stack.hpp"
#include "model/ids.hpp"
#include "model/json_writer.hpp"
#include "model/names.hpp"
#include "recorder/recorder_core.hpp"
#include "propagation/outbound_header.hpp"
#include "xray/segment_scope.hpp"
#include "xray/subsegment_scope.hpp"

namespace xray {
namespace {

using detail::Entity;
using detail::LogKind;

// Most exceptions recorded per cause chain; the rest are counted in `skipped`.
constexpr std::size_t kMaxLinkedExceptions = 10;

void warn(const Entity& entity, LogKind kind, const std::string& message) noexcept {
  if (auto* owner = entity.tree->owner.get()) {
    owner->logger().log_limited(kind, LogLevel::kWarn, message);
  }
}

// Runs `change` on a sampled entity that has not ended, under its tree's lock. Recording on an
// unsampled entity is a no-op; on an ended one it is refused (the document may already be sent).
// Serialized size of `value`, estimated by walking it: exact for strings without escapes, close for
// numbers. Never serializes on the request thread.
std::size_t estimate_bytes(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      std::size_t bytes = 2;
      for (const auto& [key, item] : value.items()) bytes += key.size() + 4 + estimate_bytes(item);
      return bytes;
    }
    case nlohmann::json::value_t::array: {
      std::size_t bytes = 2;
      for (const auto& item : value) bytes += estimate_bytes(item) + 1;
      return bytes;
    }
    case nlohmann::json::value_t::string:
      return value.get_ref<const std::string&>().size() + 2;
    case nlohmann::json::value_t::boolean:
      return 5;
    case nlohmann::json::value_t::null:
      return 4;
    default:
      return 20;
  }
}

// Fields written as `"key":"value",`: the extra bytes around their content.
constexpr std::size_t kFieldOverhead = 6;

template <typename Change>
void record(const std::shared_ptr<Entity>& entity, Change&& change,
            std::size_t added_bytes = 0) noexcept {
  if (!entity || !entity->tree->sampled) return;
  try {
    std::unique_lock<detail::SpinLock> lock(entity->tree->mutex);
    if (entity->ended) {
      lock.unlock();
      // A Lambda facade is ended from the start: Lambda records the function's segment.
      warn(*entity, LogKind::kRejectedCall,
           entity->tree->facade && entity->is_segment
               ? std::string("ignored a change to the Lambda facade segment: Lambda records the "
                             "function's segment; record on a subsegment of the invocation")
               : "ignored a change to \"" + entity->name + "\": it has already ended");
      return;
    }
    change(*entity);
    entity->approximate_bytes += added_bytes;
    if (!entity->is_segment) entity->tree->subsegment_bytes += added_bytes;
  } catch (...) {
    // Out of memory: the change is lost, the request goes on.
  }
}

void put_annotation_value(const std::shared_ptr<Entity>& entity, std::string_view key,
                          detail::AnnotationValue value) noexcept {
  if (!entity || !entity->tree->sampled) return;
  if (!detail::is_valid_annotation_key(key)) {
    warn(*entity, LogKind::kBadAnnotation,
         "dropped annotation \"" + std::string(key) + "\": keys may contain only A-Z, a-z, 0-9 and _");
    return;
  }
  std::size_t bytes = key.size() + kFieldOverhead +
                      std::visit(
                          [](const auto& v) -> std::size_t {
                            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) {
                              return v.size();
                            } else {
                              return 20;
                            }
                          },
                          value);
  record(entity, [&](Entity& e) {
    for (auto& annotation : e.annotations) {
      if (annotation.key == key) {
        annotation.value = std::move(value);
        return;
      }
    }
    e.annotations.push_back({std::string(key), std::move(value)});
  }, bytes);
}

std::string demangled_type(const std::type_info& type) {
  int status = 0;
  char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string result = status == 0 && name != nullptr ? name : type.name();
  std::free(name);
  return result;
}

// The exception, then the exceptions nested in it (std::nested_exception), each linked to the next
// by `cause`.
std::vector<detail::ExceptionRecord> exception_chain(const std::exception& first, bool remote) {
  std::vector<detail::ExceptionRecord> chain;
  const std::exception* current = &first;
  std::exception_ptr keep_alive;
  while (current != nullptr) {
    if (chain.size() == kMaxLinkedExceptions) {
      chain.back().skipped += 1;
      break;
    }
    detail::ExceptionRecord record;
    record.id = detail::new_entity_id();
    record.type = demangled_type(typeid(*current));
    record.message = current->what();
    record.remote = remote;
    if (!chain.empty()) chain.back().cause = record.id;
    chain.push_back(std::move(record));

    const auto* nested = dynamic_cast<const std::nested_exception*>(current);
    current = nullptr;
    if (nested != nullptr && nested->nested_ptr()) {
      keep_alive = nested->nested_ptr();
      try {
        std::rethrow_exception(keep_alive);
      } catch (const std::exception& inner) {
        current = &inner;  // valid while keep_alive holds the exception object
      } catch (...) {
        detail::ExceptionRecord unknown;
        unknown.id = detail::new_entity_id();
        unknown.type = "unknown";
        unknown.message = "non-standard exception";
        chain.back().cause = unknown.id;
        chain.push_back(std::move(unknown));
      }
    }
  }
  return chain;
}

void apply_status(Entity& e, int status) {
  if (!e.http) e.http.emplace();
  e.http->status = status;
  if (status == 429) {
    e.throttle = true;
    e.error = true;
  } else if (status >= 400 && status < 500) {
    e.error = true;
  } else if (status >= 500 && status < 600) {
    e.fault = true;
  }
}

}  // namespace

EntityScope::EntityScope(std::shared_ptr<detail::Entity> entity) noexcept
    : entity_(std::move(entity)) {}

EntityScope::~EntityScope() { end(); }

EntityScope& EntityScope::operator=(EntityScope&& other) noexcept {
  if (this != &other) {
    end();
    entity_ = std::move(other.entity_);
  }
  return *this;
}

void EntityScope::end() noexcept {
  if (!entity_) return;
  if (entity_->is_segment && entity_->tree->facade) {
    // The invocation owns the facade and its place as this thread's context (Invocation::end).
    warn(*entity_, LogKind::kRejectedCall,
         "ignored the end of the Lambda facade segment: the invocation ends it");
    entity_.reset();
    return;
  }
  detail::remove_current(entity_.get());
  detail::end_entity(entity_);
  entity_.reset();
}

bool EntityScope::sampled() const noexcept { return entity_ && entity_->tree->sampled; }

std::string EntityScope::id() const noexcept {
  return entity_ && entity_->id != 0 ? detail::format_id(entity_->id) : std::string();
}

std::string EntityScope::trace_id() const noexcept {
  return entity_ ? entity_->tree->trace_id.str() : std::string();
}

Context EntityScope::context() const noexcept { return detail::ContextAccess::make(entity_); }

TraceHeader EntityScope::outbound_header() const noexcept {
  return entity_ ? detail::outbound_header(*entity_) : TraceHeader();
}

void EntityScope::put_annotation(std::string_view key, std::string_view value) noexcept {
  if (!sampled()) return;
  try {
    put_annotation_value(entity_, key, std::string(value));
  } catch (...) {
  }
}

void EntityScope::put_annotation(std::string_view key, const char* value) noexcept {
  put_annotation(key, std::string_view(value != nullptr ? value : ""));
}

void EntityScope::put_annotation(std::string_view key, bool value) noexcept {
  put_annotation_value(entity_, key, value);
}

void EntityScope::put_integer_annotation(std::string_view key, std::int64_t value) noexcept {
  put_annotation_value(entity_, key, value);
}

void EntityScope::put_unsigned_annotation(std::string_view key, std::uint64_t value) noexcept {
  put_annotation_value(entity_, key, value);
}

void EntityScope::put_double_annotation(std::string_view key, double value) noexcept {
  if (!sampled()) return;
  if (!std::isfinite(value)) {
    warn(*entity_, LogKind::kBadAnnotation,
         "dropped annotation \"" + std::string(key) + "\": the value is not a finite number");
    return;
  }
  put_annotation_value(entity_, key, value);
}

void EntityScope::put_metadata(std::string_view key, nlohmann::json value,
                               std::string_view ns) noexcept {
  if (!sampled()) return;
  if (ns.substr(0, 4) == "AWS.") {
    warn(*entity_, LogKind::kBadMetadata,
         "dropped metadata \"" + std::string(key) + "\": namespace \"" + std::string(ns) +
             "\" is reserved for AWS SDKs");
    return;
  }
  if (key.empty() || ns.empty()) {
    warn(*entity_, LogKind::kBadMetadata, "dropped metadata with an empty key or namespace");
    return;
  }
  std::size_t bytes = 0;
  try {
    bytes = ns.size() + key.size() + 2 * kFieldOverhead + estimate_bytes(value);
  } catch (...) {
  }
  record(entity_, [&](Entity& e) {
    auto space = std::find_if(e.metadata.begin(), e.metadata.end(),
                              [&](const auto& item) { return item.name == ns; });
    if (space == e.metadata.end()) {
      e.metadata.push_back({std::string(ns), {}});
      space = std::prev(e.metadata.end());
    }
    for (auto& [existing, existing_value] : space->entries) {
      if (existing == key) {
        existing_value = std::move(value);
        return;
      }
    }
    space->entries.emplace_back(std::string(key), std::move(value));
  }, bytes);
}

void EntityScope::add_exception(const std::exception& e, bool remote) noexcept {
  add_exception(e, std::vector<StackFrame>{}, remote);
}

void EntityScope::add_exception(const std::exception& e, std::vector<StackFrame> stack,
                                bool remote) noexcept {
  if (!sampled()) return;
  try {
    auto chain = exception_chain(e, remote);
    if (!chain.empty()) {
      if (stack.size() > kMaxStackFrames) {
        chain.front().truncated = static_cast<int>(stack.size() - kMaxStackFrames);
        stack.resize(kMaxStackFrames);
      }
      chain.front().stack = std::move(stack);
    }
    std::size_t bytes = 0;
    for (const auto& item : chain) {
      bytes += item.type.size() + item.message.size() + 80;
      for (const auto& frame : item.stack) bytes += frame.path.size() + frame.label.size() + 40;
    }
    record(entity_, [&](Entity& entity) {
      if (!remote) entity.fault = true;
      entity.cause_id = 0;
      for (auto& item : chain) entity.exceptions.push_back(std::move(item));
    }, bytes);
  } catch (...) {
  }
}

void EntityScope::add_exception(const std::exception_ptr& e, bool remote) noexcept {
  if (!sampled() || !e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    add_exception(ex, remote);
  } catch (...) {
    try {
      detail::ExceptionRecord unknown;
      unknown.id = detail::new_entity_id();
      unknown.type = "unknown";
      unknown.message = "non-standard exception";
      unknown.remote = remote;
      record(entity_, [&](Entity& entity) {
        if (!remote) entity.fault = true;
        entity.cause_id = 0;
        entity.exceptions.push_back(std::move(unknown));
      });
    } catch (...) {
    }
  }
}

void EntityScope::add_exception(std::string_view type, std::string_view message,
                                bool remote) noexcept {
  if (!sampled()) return;
  try {
    detail::ExceptionRecord exception;
    exception.id = detail::new_entity_id();
    exception.type = std::string(type);
    exception.message = std::string(message);
    exception.remote = remote;
    const std::size_t bytes = type.size() + message.size() + 80;
    record(entity_, [&](Entity& entity) {
      if (!remote) entity.fault = true;
      entity.cause_id = 0;
      entity.exceptions.push_back(std::move(exception));
    }, bytes);
  } catch (...) {
  }
}

void EntityScope::set_cause_id(std::string_view exception_id) noexcept {
  std::uint64_t id = detail::parse_id(exception_id);
  if (id == 0) return;
  record(entity_, [&](Entity& e) {
    if (e.exceptions.empty()) e.cause_id = id;
  });
}

void EntityScope::set_error() noexcept {
  record(entity_, [](Entity& e) { e.error = true; });
}

void EntityScope::set_throttle() noexcept {
  record(entity_, [](Entity& e) { e.throttle = e.error = true; });
}

void EntityScope::set_fault() noexcept {
  record(entity_, [](Entity& e) { e.fault = true; });
}

void EntityScope::set_http_request(HttpRequestInfo request) noexcept {
  std::size_t bytes = request.method.size() + request.url.size() + request.user_agent.size() +
                      request.client_ip.size() + 100;
  record(entity_, [&](Entity& e) {
    if (!e.http) e.http.emplace();
    e.http->request = std::move(request);
  }, bytes);
}

void EntityScope::set_http_status(int status) noexcept {
  record(entity_, [&](Entity& e) { apply_status(e, status); });
}

void EntityScope::set_http_content_length(std::uint64_t length) noexcept {
  record(entity_, [&](Entity& e) {
    if (!e.http) e.http.emplace();
    e.http->content_length = length;
  });
}

void EntityScope::set_aws(std::string_view key, nlohmann::json value) noexcept {
  if (!sampled() || key.empty()) return;
  std::size_t bytes = 0;
  try {
    bytes = key.size() + kFieldOverhead + estimate_bytes(value);
  } catch (...) {
  }
  record(entity_, [&](Entity& e) {
    if (!e.aws.is_object()) e.aws = nlohmann::json::object();
    e.aws[std::string(key)] = std::move(value);
  }, bytes);
}

// SegmentScope

void SegmentScope::set_user(std::string_view user) noexcept {
  record(entity_, [&](Entity& e) { e.user = std::string(user); });
}

void SegmentScope::set_service_version(std::string_view version) noexcept {
  record(entity_, [&](Entity& e) { e.service_version = std::string(version); });
}

void SegmentScope::set_origin(std::string_view origin) noexcept {
  record(entity_, [&](Entity& e) { e.origin = std::string(origin); });
}

void SegmentScope::set_resource_arn(std::string_view arn) noexcept {
  record(entity_, [&](Entity& e) { e.resource_arn = std::string(arn); });
}

TraceHeader SegmentScope::response_header() const noexcept {
  TraceHeader header;
  if (!entity_) return header;
  header.set_root(entity_->tree->trace_id.str());
  header.set_sampled(entity_->tree->sampled ? TraceHeader::Sampled::kYes
                                            : TraceHeader::Sampled::kNo);
  return header;
}

// SubsegmentScope

void SubsegmentScope::set_namespace(std::string_view ns) noexcept {
  if (!sampled()) return;
  if (ns != "aws" && ns != "remote") {
    warn(*entity_, LogKind::kRejectedCall,
         "ignored namespace \"" + std::string(ns) + "\": only \"aws\" and \"remote\" are defined");
    return;
  }
  record(entity_, [&](Entity& e) { e.namespace_ = std::string(ns); });
}

void SubsegmentScope::set_sql(SqlInfo sql) noexcept {
  if (!sampled()) return;
  try {
    sql.connection_string = detail::strip_password(sql.connection_string);
    sql.url = detail::strip_password(sql.url);
    if (!entity_->tree->settings->collect_sql_queries) sql.sanitized_query.clear();
    std::size_t bytes = sql.connection_string.size() + sql.url.size() +
                        sql.sanitized_query.size() + sql.database_type.size() +
                        sql.database_version.size() + sql.driver_version.size() + sql.user.size() +
                        sql.preparation.size() + 120;
    record(entity_, [&](Entity& e) { e.sql = std::move(sql); }, bytes);
  } catch (...) {
  }
}

void SubsegmentScope::add_precursor_id(std::string_view id) noexcept {
  std::uint64_t parsed = detail::parse_id(id);
  if (parsed == 0) return;
  record(entity_, [&](Entity& e) { e.precursor_ids.push_back(parsed); });
}

}  // namespace xray
