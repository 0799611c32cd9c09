#include "trace_store.hpp"

#include <vector>

#include "trace_assembly.hpp"

namespace xray::local {
namespace {

using nlohmann::json;

// Rough libstdc++ sizes: a json value is 16 bytes; an object is a std::map (48 bytes a node plus
// the key string); strings longer than 15 characters have a heap buffer.
constexpr std::size_t kValue = sizeof(json);
constexpr std::size_t kMapNode = 48 + sizeof(std::string);
constexpr std::size_t kSmallString = 15;

std::size_t string_heap(const std::string& s) {
  return s.capacity() > kSmallString ? s.capacity() + 1 : 0;
}

std::size_t heap_of(const json& value, int depth) {
  if (depth > 200) return 0;
  switch (value.type()) {
    case json::value_t::object: {
      std::size_t total = 48;  // the map itself
      for (const auto& item : value.items()) {
        total += kMapNode + string_heap(item.key()) + heap_of(item.value(), depth + 1);
      }
      return total;
    }
    case json::value_t::array: {
      std::size_t total = 24 + value.size() * kValue;
      for (const json& element : value) total += heap_of(element, depth + 1);
      return total;
    }
    case json::value_t::string:
      return sizeof(std::string) + string_heap(value.get_ref<const std::string&>());
    default:
      return 0;
  }
}

}  // namespace

std::size_t approximate_bytes(const json& value) noexcept {
  try {
    return kValue + heap_of(value, 0);
  } catch (...) {
    return kValue;
  }
}

TraceStore::TraceStore(StoreLimits limits) : limits_(limits) {}

void TraceStore::add(json document, double now) {
  if (!document.is_object()) return;
  const auto id_it = document.find("id");
  const auto trace_it = document.find("trace_id");
  if (id_it == document.end() || trace_it == document.end() || !id_it->is_string() ||
      !trace_it->is_string()) {
    return;
  }
  const std::string id = id_it->get<std::string>();
  const std::string trace_id = trace_it->get<std::string>();
  const bool independent = document.value("type", json("")) == json("subsegment");
  const bool open = in_progress(document);
  const std::size_t bytes = approximate_bytes(document) + id.size() + 64;

  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, inserted] = traces_.try_emplace(trace_id);
  Trace& trace = it->second;
  if (inserted) {
    trace.id = trace_id;
    order_.push_back(trace_id);
    trace.age = std::prev(order_.end());
    trace.bytes = sizeof(Trace) + 2 * trace_id.size() + 128;
    counters_.bytes += trace.bytes;
  }
  trace.last_received = now;
  auto existing = trace.documents.find(id);
  if (existing != trace.documents.end()) {
    const bool was_open = in_progress(existing->second.json);
    if (open && !was_open) {
      ++counters_.stale_in_progress;
      return;
    }
    ++(was_open ? counters_.replaced_in_progress : counters_.replaced_other);
    trace.bytes -= existing->second.bytes;
    counters_.bytes -= existing->second.bytes;
    existing->second = Document{std::move(document), bytes};
  } else {
    trace.documents.emplace(id, Document{std::move(document), bytes});
  }
  trace.bytes += bytes;
  counters_.bytes += bytes;
  trace.fresh = false;
  ++counters_.documents;
  ++(independent ? counters_.independent_subsegments : counters_.segments);
  evict_locked();
}

void TraceStore::evict_locked() {
  while (!order_.empty() &&
         (traces_.size() > limits_.max_traces || counters_.bytes > limits_.max_bytes)) {
    auto victim = traces_.find(order_.front());
    order_.pop_front();
    if (victim == traces_.end()) continue;
    counters_.bytes -= victim->second.bytes;
    counters_.evicted_documents += victim->second.documents.size();
    ++counters_.evicted_traces;
    traces_.erase(victim);
  }
}

json TraceStore::assemble_locked(const Trace& trace) const {
  std::vector<const json*> documents;
  documents.reserve(trace.documents.size());
  for (const auto& [id, document] : trace.documents) documents.push_back(&document.json);
  return assemble(documents);
}

void TraceStore::refresh_locked(Trace& trace) {
  if (trace.fresh) return;
  const json roots = assemble_locked(trace);
  trace.summary = summarize(trace.id, roots);
  trace.summary.json["documents"] = trace.documents.size();
  trace.graph = trace_graph(roots);
  trace.fresh = true;
  // What the caches hold, in the same rough terms as approximate_bytes.
  std::size_t cache = approximate_bytes(trace.summary.json) + trace.summary.text.capacity() + 64;
  for (const auto* set : {&trace.summary.services, &trace.summary.annotations}) {
    for (const std::string& item : *set) cache += kMapNode + string_heap(item);
  }
  for (const auto& [id, node] : trace.graph.nodes) {
    cache += kMapNode + sizeof(GraphNode) + string_heap(id) + string_heap(node.id) +
             string_heap(node.name) + string_heap(node.type) + string_heap(node.kind);
  }
  for (const auto& [id, edge] : trace.graph.edges) {
    cache += kMapNode + sizeof(GraphEdge) + string_heap(id) + string_heap(edge.from) +
             string_heap(edge.to);
  }
  trace.bytes += cache - trace.cache_bytes;
  counters_.bytes += cache - trace.cache_bytes;
  trace.cache_bytes = cache;
}

void TraceStore::with_all(const std::function<void(const std::vector<View>&)>& run) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<View> views;
  views.reserve(traces_.size());
  for (auto& [id, trace] : traces_) {
    refresh_locked(trace);
    views.push_back(View{trace.id, trace.summary, trace.graph, trace.last_received});
  }
  run(views);
}

void TraceStore::for_each(const std::function<bool(const View&)>& visit) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [id, trace] : traces_) {
    refresh_locked(trace);
    if (!visit(View{trace.id, trace.summary, trace.graph, trace.last_received})) return;
  }
}

std::optional<json> TraceStore::trace(const std::string& trace_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = traces_.find(trace_id);
  if (found == traces_.end()) return std::nullopt;
  refresh_locked(found->second);
  return json{{"id", trace_id},
              {"summary", found->second.summary.json},
              {"documents", found->second.documents.size()},
              {"roots", assemble_locked(found->second)}};
}

StoreCounters TraceStore::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  StoreCounters out = counters_;
  out.traces = traces_.size();
  return out;
}

}  // namespace xray::local
