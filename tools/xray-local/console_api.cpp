#include "console_api.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <utility>
#include <vector>

#include "console_assets.hpp"
#include "ingest.hpp"
#include "sampling_proxy.hpp"
#include "trace_store.hpp"

namespace xray::local {
namespace {

using nlohmann::json;

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    std::string key = url_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
    if (!key.empty()) out[std::move(key)] = std::move(value);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::string param(const std::map<std::string, std::string>& params, const char* key) {
  const auto found = params.find(key);
  return found == params.end() ? std::string() : found->second;
}

// A number parameter; `fallback` when absent or not a number.
double number(const std::map<std::string, std::string>& params, const char* key, double fallback) {
  const std::string text = param(params, key);
  if (text.empty()) return fallback;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  return end != nullptr && *end == '\0' ? value : fallback;
}

HttpReply json_reply(unsigned status, const json& body) {
  return HttpReply{status, "application/json",
                   body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

HttpReply error_reply(unsigned status, const std::string& message) {
  return json_reply(status, json{{"error", message}});
}

}  // namespace

std::string url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 &&
               hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

ConsoleApi::ConsoleApi(ConsoleSources sources) : sources_(std::move(sources)) {}

HttpReply ConsoleApi::get(std::string_view target, double now) const noexcept {
  try {
    const auto question = target.find('?');
    const std::string_view path = target.substr(0, question);
    const std::string_view query =
        question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
    return route(path, query, now);
  } catch (const std::exception& e) {
    try {
      return error_reply(500, e.what());
    } catch (...) {
      return HttpReply{500, "text/plain", ""};
    }
  }
}

HttpReply ConsoleApi::route(std::string_view path, std::string_view query, double now) const {
  if (path == "/api/traces") return traces(query, now);
  if (path == "/api/service-map") return service_map(query);
  if (path == "/api/stats") return statistics();
  constexpr std::string_view kTrace = "/api/traces/";
  if (path.substr(0, kTrace.size()) == kTrace) {
    const std::string id = url_decode(path.substr(kTrace.size()));
    auto trace = sources_.store->trace(id);
    if (!trace) return error_reply(404, "no trace " + id + " (never received, or evicted)");
    return json_reply(200, *trace);
  }
  if (const ConsoleAsset* asset = find_console_asset(path)) {
    return HttpReply{200, std::string(asset->content_type), std::string(asset->body())};
  }
  return error_reply(404, "not found: " + std::string(path));
}

HttpReply ConsoleApi::traces(std::string_view query, double now) const {
  const auto params = parse_query(query);
  const std::string service = param(params, "service");
  const std::string status = param(params, "status");
  const std::string annotation = param(params, "annotation");
  const std::string text = param(params, "q");
  const std::string node = param(params, "node");
  const std::string edge = param(params, "edge");
  const double since = number(params, "since", 0);
  const double until = number(params, "until", 0);
  const auto limit = static_cast<std::size_t>(std::clamp(number(params, "limit", 100), 1.0, 1000.0));

  // Under the store's lock: filter to pointers, then copy only the newest `limit` summaries.
  json list = json::array();
  std::size_t count = 0;
  std::size_t total = 0;
  sources_.store->with_all([&](const std::vector<TraceStore::View>& all) {
    total = all.size();
    std::vector<const TraceSummary*> matched;
    for (const TraceStore::View& trace : all) {
      const TraceSummary& s = trace.summary;
      if (!service.empty() && s.services.count(service) == 0) continue;
      if (!status.empty() && s.status_class != status) continue;
      if (!annotation.empty() && s.annotations.count(annotation) == 0) continue;
      if (!text.empty() && !s.matches_text(text)) continue;
      if (since > 0 && s.start < since) continue;
      if (until > 0 && s.start > until) continue;
      if (!node.empty() && trace.graph.nodes.count(node) == 0) continue;
      if (!edge.empty() && trace.graph.edges.count(edge) == 0) continue;
      matched.push_back(&s);
    }
    count = matched.size();
    const std::size_t shown = std::min(limit, matched.size());
    std::partial_sort(matched.begin(), matched.begin() + static_cast<std::ptrdiff_t>(shown),
                      matched.end(), [](const TraceSummary* a, const TraceSummary* b) {
                        return a->start > b->start || (a->start == b->start && a->json["id"] < b->json["id"]);
                      });
    for (std::size_t i = 0; i < shown; ++i) list.push_back(matched[i]->json);
  });
  return json_reply(200, json{{"traces", std::move(list)}, {"matched", count}, {"total", total},
                              {"now", now}});
}

HttpReply ConsoleApi::service_map(std::string_view query) const {
  const auto params = parse_query(query);
  const double since = number(params, "since", 0);
  const double until = number(params, "until", 0);
  json map;
  sources_.store->with_all([&](const std::vector<TraceStore::View>& all) {
    std::vector<const TraceGraph*> graphs;
    graphs.reserve(all.size());
    for (const TraceStore::View& trace : all) {
      const double start = trace.summary.start;
      if ((since > 0 && start < since) || (until > 0 && start > until)) continue;
      graphs.push_back(&trace.graph);
    }
    map = xray::local::service_map(graphs);
    map["traces"] = graphs.size();
  });
  return json_reply(200, map);
}

HttpReply ConsoleApi::statistics() const {
  const StoreCounters c = sources_.store->counters();
  const StoreLimits limits = sources_.store->limits();
  json out = {{"store",
               {{"documents", c.documents},
                {"segments", c.segments},
                {"independent_subsegments", c.independent_subsegments},
                {"replaced_in_progress", c.replaced_in_progress},
                {"replaced_other", c.replaced_other},
                {"stale_in_progress", c.stale_in_progress},
                {"evicted_traces", c.evicted_traces},
                {"evicted_documents", c.evicted_documents},
                {"traces", c.traces},
                {"bytes", c.bytes},
                {"max_traces", limits.max_traces},
                {"max_bytes", limits.max_bytes}}}};
  if (sources_.ingest != nullptr) out["ingest"] = sources_.ingest->statistics();
  if (sources_.sampling != nullptr) out["sampling"] = sources_.sampling->statistics();
  if (sources_.more) out.update(sources_.more());
  return json_reply(200, out);
}

}  // namespace xray::local
