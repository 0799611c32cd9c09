#include "trace_assembly.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <string>

namespace xray::local {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 128;  // deeper embedded subsegments are dropped

struct Node {
  json fields;  // the entity without its "subsegments"
  std::vector<std::unique_ptr<Node>> children;
  Node* parent = nullptr;
  std::string id;
  bool complete = true;
};

std::string string_field(const json& entity, const char* key) {
  const auto found = entity.find(key);
  return found != entity.end() && found->is_string() ? found->get<std::string>() : std::string();
}

double start_of(const Node& node) {
  const auto start = node.fields.find("start_time");
  return start != node.fields.end() && start->is_number() ? start->get<double>() : 0.0;
}

std::unique_ptr<Node> build(const json& entity, int depth) {
  auto node = std::make_unique<Node>();
  node->id = string_field(entity, "id");
  node->complete = !in_progress(entity);
  node->fields = json::object();
  for (const auto& item : entity.items()) {
    if (item.key() != "subsegments") node->fields[item.key()] = item.value();
  }
  const auto children = entity.find("subsegments");
  if (depth < kMaxDepth && children != entity.end() && children->is_array()) {
    for (const json& child : *children) {
      if (!child.is_object()) continue;
      auto built = build(child, depth + 1);
      built->parent = node.get();
      node->children.push_back(std::move(built));
    }
  }
  return node;
}

void index(Node& node, std::map<std::string, Node*>& ids) {
  if (!node.id.empty()) ids.emplace(node.id, &node);
  for (auto& child : node.children) index(*child, ids);
}

// Takes `node` out of its parent's children; returns ownership.
std::unique_ptr<Node> detach(Node& node) {
  auto& siblings = node.parent->children;
  for (auto it = siblings.begin(); it != siblings.end(); ++it) {
    if (it->get() == &node) {
      std::unique_ptr<Node> owned = std::move(*it);
      siblings.erase(it);
      owned->parent = nullptr;
      return owned;
    }
  }
  return nullptr;
}

bool is_ancestor_or_self(const Node* candidate, const Node* node) {
  for (const Node* at = node; at != nullptr; at = at->parent) {
    if (at == candidate) return true;
  }
  return false;
}

json to_json(Node& node, int depth) {
  json out = std::move(node.fields);
  std::stable_sort(node.children.begin(), node.children.end(),
                   [](const auto& a, const auto& b) { return start_of(*a) < start_of(*b); });
  if (!node.children.empty() && depth < kMaxDepth) {
    json children = json::array();
    for (auto& child : node.children) children.push_back(to_json(*child, depth + 1));
    out["subsegments"] = std::move(children);
  }
  return out;
}

}  // namespace

bool in_progress(const json& entity) noexcept {
  const auto found = entity.find("in_progress");
  return found != entity.end() && found->is_boolean() && found->get<bool>();
}

json assemble(const std::vector<const json*>& documents) {
  std::vector<std::unique_ptr<Node>> segments;
  std::vector<std::unique_ptr<Node>> independent;
  for (const json* document : documents) {
    if (document == nullptr || !document->is_object()) continue;
    auto node = build(*document, 0);
    (string_field(*document, "type") == "subsegment" ? independent : segments)
        .push_back(std::move(node));
  }

  // Every id, embedded ones included; an independent subsegment that repeats an embedded entity
  // replaces it (or is dropped, if it is the stale one).
  std::map<std::string, Node*> ids;
  for (auto& segment : segments) index(*segment, ids);
  for (auto& sub : independent) {
    auto known = ids.find(sub->id);
    if (known == ids.end() || sub->id.empty()) continue;
    Node* existing = known->second;
    if (existing->parent == nullptr) continue;  // a segment with the same id: leave both
    if (existing->complete && !sub->complete) {
      sub.reset();
      continue;
    }
    // Keep the embedded version's children the independent one does not carry.
    auto old = detach(*existing);
    for (auto& child : old->children) {
      bool carried = false;
      for (auto& mine : sub->children) carried = carried || (!mine->id.empty() && mine->id == child->id);
      if (!carried) {
        child->parent = sub.get();
        sub->children.push_back(std::move(child));
      }
    }
    ids.erase(known);
  }
  independent.erase(std::remove(independent.begin(), independent.end(), nullptr),
                    independent.end());
  for (auto& sub : independent) index(*sub, ids);

  // Attach each independent subsegment under its parent, wherever that is.
  for (auto& sub : independent) {
    const auto parent = ids.find(string_field(sub->fields, "parent_id"));
    if (parent == ids.end() || is_ancestor_or_self(sub.get(), parent->second)) continue;
    sub->parent = parent->second;
    parent->second->children.push_back(std::move(sub));
  }

  auto by_start = [](const auto& a, const auto& b) { return start_of(*a) < start_of(*b); };
  std::stable_sort(segments.begin(), segments.end(), by_start);
  json roots = json::array();
  for (auto& segment : segments) roots.push_back(to_json(*segment, 0));
  for (auto& sub : independent) {
    if (sub) roots.push_back(to_json(*sub, 0));
  }
  return roots;
}

}  // namespace xray::local
