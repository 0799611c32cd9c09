#include "model/serializer.hpp"

#include <unistd.h>

#include <cerrno>
#include <type_traits>
#include <variant>
#include <vector>

#include "model/json_writer.hpp"
#include "xray/version.hpp"

namespace xray::detail {
namespace {

// The language level the SDK was compiled with; later standards still report the newest known.
constexpr std::string_view kRuntimeVersion = __cplusplus >= 202002L ? "C++20" : "C++17";

std::string read_working_directory() {
  std::vector<char> buffer(256);
  while (getcwd(buffer.data(), buffer.size()) == nullptr) {
    if (errno != ERANGE) return {};
    buffer.resize(buffer.size() * 2);
  }
  return std::string(buffer.data());
}

// Read once: the directory rarely changes, and a syscall per exception document is wasted.
const std::string& working_directory() {
  static const std::string directory = read_working_directory();
  return directory;
}

void write_if_not_empty(JsonWriter& w, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  w.plain_key(key);
  w.string(value);
}

bool has_request_fields(const HttpRequestInfo& r) {
  return !r.method.empty() || !r.url.empty() || !r.user_agent.empty() || !r.client_ip.empty() ||
         r.x_forwarded_for || r.traced;
}

void write_http(JsonWriter& w, const HttpData& http) {
  const bool request = http.request && has_request_fields(*http.request);
  const bool response = http.status != 0 || http.content_length;
  if (!request && !response) return;
  w.plain_key("http");
  w.begin_object();
  if (request) {
    const HttpRequestInfo& r = *http.request;
    w.plain_key("request");
    w.begin_object();
    write_if_not_empty(w, "method", r.method);
    write_if_not_empty(w, "url", r.url);
    write_if_not_empty(w, "user_agent", r.user_agent);
    write_if_not_empty(w, "client_ip", r.client_ip);
    if (r.x_forwarded_for) {
      w.plain_key("x_forwarded_for");
      w.boolean(true);
    }
    if (r.traced) {
      w.plain_key("traced");
      w.boolean(true);
    }
    w.end_object();
  }
  if (response) {
    w.plain_key("response");
    w.begin_object();
    if (http.status != 0) {
      w.plain_key("status");
      w.integer(http.status);
    }
    if (http.content_length) {
      w.plain_key("content_length");
      w.unsigned_integer(*http.content_length);
    }
    w.end_object();
  }
  w.end_object();
}

// A segment's aws object: the entity's own fields, then plugin data, then the SDK's xray block.
// A key set on the entity wins over the same plugin key (as the entity's origin wins over the
// plugins'); "xray" always belongs to the SDK.
void write_segment_aws(JsonWriter& w, const Entity& e, const nlohmann::json* plugin_aws) {
  const bool has_plugins = plugin_aws != nullptr && plugin_aws->is_object();
  w.plain_key("aws");
  w.begin_object();
  if (e.aws.is_object()) {
    for (const auto& [key, value] : e.aws.items()) {
      if (key == "xray") continue;
      w.key(key);
      w.json(value);
    }
  }
  if (has_plugins) {
    for (const auto& [key, value] : plugin_aws->items()) {
      if (key == "xray" || (e.aws.is_object() && e.aws.contains(key))) continue;
      w.key(key);
      w.json(value);
    }
  }
  w.plain_key("xray");
  w.begin_object();
  w.plain_key("sdk");
  w.string(kSdkName);
  w.plain_key("sdk_version");
  w.string(kSdkVersion);
  write_if_not_empty(w, "sampling_rule_name", e.sampling_rule_name);
  w.end_object();
  w.end_object();
}

void write_sql(JsonWriter& w, const SqlInfo& sql) {
  if (sql.connection_string.empty() && sql.url.empty() && sql.sanitized_query.empty() &&
      sql.database_type.empty() && sql.database_version.empty() && sql.driver_version.empty() &&
      sql.user.empty() && sql.preparation.empty()) {
    return;
  }
  w.plain_key("sql");
  w.begin_object();
  // Passwords were removed when the fields were recorded (EntityScope).
  write_if_not_empty(w, "connection_string", sql.connection_string);
  write_if_not_empty(w, "url", sql.url);
  write_if_not_empty(w, "sanitized_query", sql.sanitized_query);
  write_if_not_empty(w, "database_type", sql.database_type);
  write_if_not_empty(w, "database_version", sql.database_version);
  write_if_not_empty(w, "driver_version", sql.driver_version);
  write_if_not_empty(w, "user", sql.user);
  write_if_not_empty(w, "preparation", sql.preparation);
  w.end_object();
}

void write_exception(JsonWriter& w, const ExceptionRecord& x) {
  w.begin_object();
  w.plain_key("id");
  w.id(x.id);
  write_if_not_empty(w, "type", x.type);
  write_if_not_empty(w, "message", x.message);
  if (x.remote) {
    w.plain_key("remote");
    w.boolean(true);
  }
  if (x.truncated > 0) {
    w.plain_key("truncated");
    w.integer(x.truncated);
  }
  if (x.skipped > 0) {
    w.plain_key("skipped");
    w.integer(x.skipped);
  }
  if (x.cause != 0) {
    w.plain_key("cause");
    w.id(x.cause);
  }
  if (!x.stack.empty()) {
    w.plain_key("stack");
    w.begin_array();
    for (const StackFrame& frame : x.stack) {
      w.begin_object();
      write_if_not_empty(w, "path", frame.path);
      if (frame.line > 0) {
        w.plain_key("line");
        w.integer(frame.line);
      }
      write_if_not_empty(w, "label", frame.label);
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
}

void write_cause(JsonWriter& w, const Entity& e) {
  if (!e.exceptions.empty()) {
    w.plain_key("cause");
    w.begin_object();
    write_if_not_empty(w, "working_directory", working_directory());
    w.plain_key("exceptions");
    w.begin_array();
    for (const ExceptionRecord& x : e.exceptions) write_exception(w, x);
    w.end_array();
    w.end_object();
  } else if (e.cause_id != 0) {
    w.plain_key("cause");
    w.id(e.cause_id);
  }
}

void write_annotations(JsonWriter& w, const Annotations& annotations) {
  if (annotations.empty()) return;
  w.plain_key("annotations");
  w.begin_object();
  for (const Annotation& a : annotations) {
    w.key(a.key);
    std::visit(
        [&w](const auto& value) {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, std::string>) {
            w.string(value);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            w.integer(value);
          } else if constexpr (std::is_same_v<T, std::uint64_t>) {
            w.unsigned_integer(value);
          } else if constexpr (std::is_same_v<T, double>) {
            w.number(value);  // null if not finite, though such values are refused when recorded
          } else {
            w.boolean(value);
          }
        },
        a.value);
  }
  w.end_object();
}

void write_metadata(JsonWriter& w, const std::vector<MetadataNamespace>& metadata) {
  bool any = false;
  for (const MetadataNamespace& ns : metadata) any = any || !ns.entries.empty();
  if (!any) return;
  w.plain_key("metadata");
  w.begin_object();
  for (const MetadataNamespace& ns : metadata) {
    if (ns.entries.empty()) continue;
    w.key(ns.name);
    w.begin_object();
    for (const auto& [key, value] : ns.entries) {
      w.key(key);
      w.json(value);
    }
    w.end_object();
  }
  w.end_object();
}

void write_flag(JsonWriter& w, std::string_view key, bool value) {
  if (!value) return;
  w.plain_key(key);
  w.boolean(true);
}

// `context` is null for embedded subsegments.
void write_entity(JsonWriter& w, const Entity& e, const DocumentContext* context) {
  const bool root = context != nullptr;
  w.begin_object();
  w.plain_key("name");
  w.string(e.name);
  w.plain_key("id");
  w.id(e.id);
  if (root) {
    w.plain_key("trace_id");
    w.string(context->trace_id);
    if (!e.is_segment || e.parent_id != 0) {
      w.plain_key("parent_id");
      w.id(e.parent_id);
    }
    if (!e.is_segment) {
      w.plain_key("type");
      w.string("subsegment");
    }
  }
  w.plain_key("start_time");
  w.epoch_seconds(e.start_us);
  if (e.in_progress) {
    w.plain_key("in_progress");
    w.boolean(true);
  } else {
    w.plain_key("end_time");
    w.epoch_seconds(e.end_us);
  }

  if (!e.is_segment) write_if_not_empty(w, "namespace", e.namespace_);
  write_if_not_empty(w, "user", e.user);
  write_if_not_empty(w, "resource_arn", e.resource_arn);
  if (e.is_segment) {
    if (!e.origin.empty()) {
      write_if_not_empty(w, "origin", e.origin);
    } else if (root && context->origin != nullptr) {
      write_if_not_empty(w, "origin", *context->origin);
    }
  }
  if (e.is_segment && root) {
    w.plain_key("service");
    w.begin_object();
    write_if_not_empty(w, "version", e.service_version);
    w.plain_key("runtime");
    w.string("C++");
    w.plain_key("runtime_version");
    w.string(kRuntimeVersion);
    w.end_object();
  }
  if (e.http) write_http(w, *e.http);
  if (e.is_segment) {
    write_segment_aws(w, e, root ? context->plugin_aws : nullptr);
  } else if (e.aws.is_object() && !e.aws.empty()) {
    w.plain_key("aws");
    w.json(e.aws);
  }
  if (!e.is_segment && e.sql) write_sql(w, *e.sql);
  write_flag(w, "error", e.error);
  write_flag(w, "throttle", e.throttle);
  write_flag(w, "fault", e.fault);
  write_cause(w, e);
  write_annotations(w, e.annotations);
  write_metadata(w, e.metadata);
  if (!e.is_segment && !e.precursor_ids.empty()) {
    w.plain_key("precursor_ids");
    w.begin_array();
    for (EntityId id : e.precursor_ids) w.id(id);
    w.end_array();
  }
  bool has_children = false;
  for (const auto& child : e.children) has_children = has_children || child != nullptr;
  if (has_children) {
    w.plain_key("subsegments");
    w.begin_array();
    for (const auto& child : e.children) {
      if (child) write_entity(w, *child, nullptr);
    }
    w.end_array();
  }
  w.end_object();
}

}  // namespace

void write_document(std::string& out, const Entity& root, const DocumentContext& context) {
  JsonWriter writer(out, JsonWriter::kStaged);
  write_entity(writer, root, &context);
}

void write_embedded(std::string& out, const Entity& entity) {
  JsonWriter writer(out, JsonWriter::kStaged);
  write_entity(writer, entity, nullptr);
}

}  // namespace xray::detail
