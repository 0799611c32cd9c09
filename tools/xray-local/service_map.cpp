#include "service_map.hpp"

#include <set>
#include <string_view>

namespace xray::local {
namespace {

using nlohmann::json;

bool flag(const json& entity, const char* key) {
  const auto found = entity.find(key);
  return found != entity.end() && found->is_boolean() && found->get<bool>();
}

std::string string_field(const json& entity, const char* key) {
  const auto found = entity.find(key);
  return found != entity.end() && found->is_string() ? found->get<std::string>() : std::string();
}

// end - start in seconds; 0 while in progress or when the times are missing.
double duration_of(const json& entity) {
  const auto start = entity.find("start_time");
  const auto end = entity.find("end_time");
  if (start == entity.end() || end == entity.end() || !start->is_number() || !end->is_number()) {
    return 0;
  }
  const double d = end->get<double>() - start->get<double>();
  return d > 0 ? d : 0;
}

// The host of an http.request.url ("http://api.example.com:8080/x" -> "api.example.com:8080").
std::string url_host(const json& entity) {
  const auto http = entity.find("http");
  if (http == entity.end() || !http->is_object()) return "";
  const auto request = http->find("request");
  if (request == http->end() || !request->is_object()) return "";
  std::string url = string_field(*request, "url");
  const auto scheme = url.find("://");
  if (scheme != std::string::npos) url = url.substr(scheme + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  const auto at = url.rfind('@');
  if (at != std::string::npos) url = url.substr(at + 1);
  return url;
}

void add_call(CallStats& stats, const json& entity) {
  stats.add(duration_of(entity), flag(entity, "error"), flag(entity, "throttle"),
            flag(entity, "fault"));
}

class Builder {
 public:
  explicit Builder(TraceGraph& graph) : graph_(graph) {}

  void run(const json& roots) {
    if (!roots.is_array()) return;
    for (const json& root : roots) {
      if (root.is_object() && string_field(root, "type") != "subsegment") index_segment(root);
    }
    for (const json& root : roots) {
      if (!root.is_object() || string_field(root, "type") == "subsegment") continue;
      const std::string service = service_node(root);
      add_call(graph_.nodes[service].served, root);
      const std::string parent = string_field(root, "parent_id");
      if (parent.empty() || called_from_.count(parent) == 0) {
        GraphNode& client = graph_.nodes["client"];
        client.id = "client";
        client.name = "Client";
        client.type = "client";
        client.kind = "client";
        add_call(edge("client", service), root);
      }
      walk(root, service);
    }
  }

 private:
  // Remembers which subsegments have a traced segment below them: ids of remote calls.
  void index_segment(const json& segment) {
    const std::string parent = string_field(segment, "parent_id");
    if (!parent.empty()) child_segment_of_.emplace(parent, &segment);
    collect_ids(segment);
  }

  void collect_ids(const json& entity) {
    const auto children = entity.find("subsegments");
    if (children == entity.end() || !children->is_array()) return;
    for (const json& child : *children) {
      if (!child.is_object()) continue;
      const std::string id = string_field(child, "id");
      if (!id.empty()) called_from_.insert(id);
      collect_ids(child);
    }
  }

  std::string service_node(const json& segment) {
    const std::string name = string_field(segment, "name");
    const std::string origin = string_field(segment, "origin");
    const std::string id = "service:" + name + "|" + origin;
    GraphNode& node = graph_.nodes[id];
    if (node.id.empty()) {
      node.id = id;
      node.name = name;
      node.type = origin;
      node.kind = "service";
    }
    return id;
  }

  CallStats& edge(const std::string& from, const std::string& to) {
    GraphEdge& e = graph_.edges[from + " -> " + to];
    e.from = from;
    e.to = to;
    return e.calls;
  }

  void walk(const json& entity, const std::string& service) {
    const auto children = entity.find("subsegments");
    if (children == entity.end() || !children->is_array()) return;
    for (const json& child : *children) {
      if (!child.is_object()) continue;
      const std::string ns = string_field(child, "namespace");
      if (ns == "aws" || ns == "remote") {
        std::string target;
        const auto downstream = child_segment_of_.find(string_field(child, "id"));
        if (downstream != child_segment_of_.end()) {
          target = service_node(*downstream->second);
        } else if (ns == "aws") {
          const std::string name = string_field(child, "name");
          target = "aws:" + name;
          GraphNode& node = graph_.nodes[target];
          node.id = target;
          node.name = name;
          node.type = "AWS::" + name;
          node.kind = "aws";
        } else {
          std::string host = url_host(child);
          if (host.empty()) host = string_field(child, "name");
          target = "remote:" + host;
          GraphNode& node = graph_.nodes[target];
          node.id = target;
          node.name = host;
          node.type = "remote";
          node.kind = "remote";
        }
        add_call(edge(service, target), child);
      }
      walk(child, service);
    }
  }

  TraceGraph& graph_;
  std::map<std::string, const json*> child_segment_of_;  // parent_id -> segment
  std::set<std::string> called_from_;                     // ids of every subsegment
};

double share(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

json stats_json(const CallStats& stats) {
  return {{"count", stats.count},
          {"average_ms", stats.count == 0 ? 0.0 : stats.total_duration * 1000 / stats.count},
          {"ok", stats.ok},
          {"errors", stats.errors},
          {"throttles", stats.throttles},
          {"faults", stats.faults},
          {"error_share", share(stats.errors, stats.count)},
          {"throttle_share", share(stats.throttles, stats.count)},
          {"fault_share", share(stats.faults, stats.count)}};
}

std::string health(const CallStats& stats) {
  if (stats.faults > 0) return "fault";
  if (stats.throttles > 0) return "throttle";
  if (stats.errors > 0) return "error";
  return "ok";
}

}  // namespace

void CallStats::add(double duration, bool error, bool throttle, bool fault) {
  ++count;
  total_duration += duration;
  if (fault) ++faults;
  else if (throttle) ++throttles;
  else if (error) ++errors;
  else ++ok;
}

void CallStats::merge(const CallStats& other) {
  count += other.count;
  total_duration += other.total_duration;
  ok += other.ok;
  errors += other.errors;
  throttles += other.throttles;
  faults += other.faults;
}

TraceGraph trace_graph(const json& roots) {
  TraceGraph graph;
  try {
    Builder(graph).run(roots);
  } catch (const std::exception&) {  // a field of an unexpected type: what was built stays
  }
  return graph;
}

json service_map(const std::vector<const TraceGraph*>& graphs) {
  std::map<std::string, GraphNode> nodes;
  std::map<std::string, GraphEdge> edges;
  std::map<std::string, CallStats> incoming;  // for nodes without segments of their own
  for (const TraceGraph* graph : graphs) {
    if (graph == nullptr) continue;
    for (const auto& [id, node] : graph->nodes) {
      auto [it, inserted] = nodes.emplace(id, node);
      if (!inserted) it->second.served.merge(node.served);
    }
    for (const auto& [id, e] : graph->edges) {
      auto [it, inserted] = edges.emplace(id, e);
      if (!inserted) it->second.calls.merge(e.calls);
      incoming[e.to].merge(e.calls);
    }
  }
  json out = {{"nodes", json::array()}, {"edges", json::array()}};
  for (const auto& [id, node] : nodes) {
    // A service is judged by its segments; a host or AWS service by the calls made to it.
    const CallStats& stats = node.kind == "service" ? node.served : incoming[id];
    json entry = stats_json(stats);
    entry["id"] = id;
    entry["name"] = node.name;
    entry["type"] = node.type;
    entry["kind"] = node.kind;
    entry["health"] = health(stats);
    out["nodes"].push_back(std::move(entry));
  }
  for (const auto& [id, e] : edges) {
    json entry = stats_json(e.calls);
    entry["id"] = id;
    entry["from"] = e.from;
    entry["to"] = e.to;
    entry["health"] = health(e.calls);
    out["edges"].push_back(std::move(entry));
  }
  return out;
}

}  // namespace xray::local
