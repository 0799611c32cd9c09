#include "trace_summary.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "trace_assembly.hpp"

namespace xray::local {
namespace {

using nlohmann::json;

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string as_text(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump(-1, ' ', false,
                                                                   json::error_handler_t::replace);
}

bool flag(const json& entity, const char* key) {
  const auto found = entity.find(key);
  return found != entity.end() && found->is_boolean() && found->get<bool>();
}

const json* object_at(const json& entity, const char* key) {
  const auto found = entity.find(key);
  return found != entity.end() && found->is_object() ? &*found : nullptr;
}

struct Walk {
  TraceSummary& summary;
  double start = std::numeric_limits<double>::max();
  double end = 0;
  bool error = false, throttle = false, fault = false, open = false;
  int entities = 0;
  json annotations = json::object();

  void visit(const json& entity, int depth) {
    if (!entity.is_object() || depth > 200) return;
    ++entities;
    if (const auto t = entity.find("start_time"); t != entity.end() && t->is_number()) {
      start = std::min(start, t->get<double>());
    }
    if (const auto t = entity.find("end_time"); t != entity.end() && t->is_number()) {
      end = std::max(end, t->get<double>());
    }
    open = open || in_progress(entity);
    error = error || flag(entity, "error");
    throttle = throttle || flag(entity, "throttle");
    fault = fault || flag(entity, "fault");
    if (const auto name = entity.find("name"); name != entity.end()) {
      summary.text += as_text(*name) + "\n";
    }
    if (const json* http = object_at(entity, "http")) {
      if (const json* request = object_at(*http, "request")) {
        for (const char* key : {"method", "url"}) {
          if (const auto v = request->find(key); v != request->end()) summary.text += as_text(*v) + "\n";
        }
      }
    }
    if (const json* notes = object_at(entity, "annotations")) {
      for (const auto& item : notes->items()) {
        const std::string pair = item.key() + "=" + as_text(item.value());
        summary.annotations.insert(pair);
        summary.text += pair + "\n";
        if (!annotations.contains(item.key())) annotations[item.key()] = item.value();
      }
    }
    if (const json* cause = object_at(entity, "cause")) {
      if (const auto list = cause->find("exceptions"); list != cause->end() && list->is_array()) {
        for (const json& e : *list) {
          if (!e.is_object()) continue;
          for (const char* key : {"type", "message"}) {
            if (const auto v = e.find(key); v != e.end()) summary.text += as_text(*v) + "\n";
          }
        }
      }
    }
    if (const auto children = entity.find("subsegments"); children != entity.end() && children->is_array()) {
      for (const json& child : *children) visit(child, depth + 1);
    }
  }
};

}  // namespace

bool TraceSummary::matches_text(std::string_view query) const {
  return text.find(lower(std::string(query))) != std::string::npos;
}

TraceSummary summarize(const std::string& trace_id, const json& roots) {
  TraceSummary summary;
  summary.text = trace_id + "\n";
  const json* entry = nullptr;
  int segments = 0;
  Walk walk{summary};
  if (roots.is_array()) {
    for (const json& root : roots) {
      if (!root.is_object()) continue;
      const bool is_segment = root.value("type", json("")) != json("subsegment");
      if (is_segment) {
        ++segments;
        if (const auto name = root.find("name"); name != root.end() && name->is_string()) {
          summary.services.insert(name->get<std::string>());
        }
        if (entry == nullptr && !root.contains("parent_id")) entry = &root;
      }
      walk.visit(root, 0);
    }
    if (entry == nullptr && !roots.empty() && roots[0].is_object()) entry = &roots[0];
  }
  summary.status_class = walk.fault ? "fault" : walk.throttle ? "throttle" : walk.error ? "error" : "ok";
  summary.start = walk.start == std::numeric_limits<double>::max() ? 0 : walk.start;
  json& out = summary.json;
  out = {{"id", trace_id},
         {"start_time", summary.start},
         {"duration_ms", walk.end > summary.start && summary.start > 0 ? (walk.end - summary.start) * 1000 : 0.0},
         {"in_progress", walk.open},
         {"status_class", summary.status_class},
         {"error", walk.error},
         {"throttle", walk.throttle},
         {"fault", walk.fault},
         {"segments", segments},
         {"entities", walk.entities},
         {"services", summary.services},
         {"annotations", walk.annotations},
         {"service", nullptr},
         {"method", nullptr},
         {"url", nullptr},
         {"status", nullptr},
         {"user", nullptr}};
  if (entry != nullptr) {
    if (const auto name = entry->find("name"); name != entry->end()) out["service"] = *name;
    if (const auto user = entry->find("user"); user != entry->end()) out["user"] = *user;
    if (const json* http = object_at(*entry, "http")) {
      if (const json* request = object_at(*http, "request")) {
        if (const auto v = request->find("method"); v != request->end()) out["method"] = *v;
        if (const auto v = request->find("url"); v != request->end()) out["url"] = *v;
      }
      if (const json* response = object_at(*http, "response")) {
        if (const auto v = response->find("status"); v != response->end()) out["status"] = *v;
      }
    }
  }
  summary.text = lower(std::move(summary.text));
  return summary;
}

}  // namespace xray::local
