// trace_summary.hpp: the line a trace gets in the console's trace list, and what filters match.
//
//   nlohmann::json roots = assemble(documents);
//   xray::local::TraceSummary summary = xray::local::summarize(trace_id, roots);
//   if (summary.matches_text("checkout")) ...
//
// The entry segment (the first segment without a parent_id, else the earliest segment) gives
// method, URL, status, service and user; time spans every entity; flags and annotations are
// gathered from every entity. The status class is the worst flag anywhere in the trace: fault,
// then throttle, then error, else ok.
//
// Thread safety: values; summarize is safe to call concurrently.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

namespace xray::local {

struct TraceSummary {
  nlohmann::json json;                // what /api/traces lists for the trace
  std::set<std::string> services;     // segment names
  std::set<std::string> annotations;  // "key=value" of every entity
  std::string status_class;           // ok, error, throttle, fault
  double start = 0;                   // epoch seconds; 0 when unknown
  std::string text;                   // lowercased searchable text: names, URLs, annotations, ...

  // Case-insensitive substring search over `text`.
  bool matches_text(std::string_view query) const;
};

TraceSummary summarize(const std::string& trace_id, const nlohmann::json& roots);

}  // namespace xray::local
