#include "terminal.hpp"

#include <cstdio>

namespace xray::local {
namespace {

using nlohmann::json;

std::string text(const json& value) {
  return value.is_string() ? value.get<std::string>()
                           : value.dump(-1, ' ', false, json::error_handler_t::replace);
}

const json& member(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  const auto found = object.find(key);
  return found == object.end() ? kNull : *found;
}

bool flag(const json& entity, const char* key) {
  const json& value = member(entity, key);
  return value.is_boolean() && value.get<bool>();
}

std::string details(const json& entity, bool top_level) {
  std::string out;
  auto add = [&out](const std::string& item) { out += "  " + item; };
  const json& start = member(entity, "start_time");
  const json& end = member(entity, "end_time");
  if (flag(entity, "in_progress")) {
    add("(in progress)");
  } else if (start.is_number() && end.is_number()) {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.1f ms", (end.get<double>() - start.get<double>()) * 1000);
    add(buffer);
  }
  if (!member(entity, "namespace").is_null()) add("ns=" + text(member(entity, "namespace")));
  if (!member(entity, "user").is_null()) add("user=" + text(member(entity, "user")));
  const json& http = member(entity, "http");
  const json& request = member(http, "request");
  const json& response = member(http, "response");
  std::string line;
  if (!member(request, "method").is_null()) line += text(member(request, "method")) + " ";
  if (!member(request, "url").is_null()) line += text(member(request, "url")) + " ";
  if (!member(response, "status").is_null()) line += "-> " + text(member(response, "status"));
  if (!line.empty()) add(line.back() == ' ' ? line.substr(0, line.size() - 1) : line);
  const json& annotations = member(entity, "annotations");
  if (annotations.is_object() && !annotations.empty()) {
    std::string list;
    for (const auto& item : annotations.items()) {
      list += (list.empty() ? "" : ",") + item.key() + "=" + text(item.value());
    }
    add("{" + list + "}");
  }
  if (flag(entity, "error")) add("ERROR");
  if (flag(entity, "throttle")) add("THROTTLE");
  if (flag(entity, "fault")) add("FAULT");
  const json& cause = member(entity, "cause");
  if (cause.is_string()) {
    add("cause=" + cause.get<std::string>());
  } else if (const json& exceptions = member(cause, "exceptions");
             exceptions.is_array() && !exceptions.empty()) {
    const json& first = exceptions[0];
    const json& type = member(first, "type");
    add((type.is_null() ? std::string("exception") : text(type)) + ": " +
        text(member(first, "message").is_null() ? json("") : member(first, "message")));
  }
  const json& rule = member(member(member(entity, "aws"), "xray"), "sampling_rule_name");
  if (top_level && !rule.is_null()) add("sampled by rule " + text(rule));
  if (top_level && member(entity, "type") == json("subsegment")) {
    const json& parent = member(entity, "parent_id");
    add("(independent subsegment of " + (parent.is_null() ? std::string("?") : text(parent)) + ")");
  }
  return out;
}

void children(std::string& out, const json& entity, const std::string& prefix, int depth) {
  const json& list = member(entity, "subsegments");
  if (!list.is_array() || depth > 100) return;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const bool last = i + 1 == list.size();
    const json& child = list[i];
    const json& name = member(child, "name");
    out += prefix + (last ? "└─ " : "├─ ") + (name.is_null() ? std::string("?") : text(name)) +
           details(child, false) + "\n";
    children(out, child, prefix + (last ? "   " : "│  "), depth + 1);
  }
}

}  // namespace

std::string document_tree(const json& document) {
  const bool independent = member(document, "type") == json("subsegment");
  const json& name = member(document, "name");
  const json& trace = member(document, "trace_id");
  std::string out = std::string(independent ? "subsegment " : "segment ") +
                    (name.is_null() ? std::string("?") : text(name)) + "  [" +
                    (trace.is_null() ? std::string("no trace_id") : text(trace)) + "]" +
                    details(document, true) + "\n";
  children(out, document, "", 0);
  return out;
}

}  // namespace xray::local
