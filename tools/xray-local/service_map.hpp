// service_map.hpp: the service map of a set of traces, as the X-Ray console draws it.
//
//   xray::local::TraceGraph graph = xray::local::trace_graph(assembled.roots);
//   nlohmann::json map = xray::local::service_map({&graph});
//
// Nodes: one per service (segment `name` and `origin`), one per downstream HTTP host that is not
// itself traced (a `remote` subsegment without a segment below it), one per AWS service (an `aws`
// subsegment, by its name), and one client node for requests that entered the traced system.
// Edges: client -> service for each segment without a parent in its trace; service -> downstream
// for each remote/aws subsegment, to the downstream service when a segment of the trace has that
// subsegment as its parent (the `X-Amzn-Trace-Id` Parent link), else to the host or AWS node.
// An edge's statistics are those of the calls it stands for: the segment (client edges) or the
// subsegment (calls from a service); a service node's are those of its segments.
//
// Thread safety: free functions on values; safe to call concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace xray::local {

// Calls seen and their outcomes; durations in seconds.
struct CallStats {
  std::uint64_t count = 0;
  double total_duration = 0;
  std::uint64_t ok = 0, errors = 0, throttles = 0, faults = 0;  // errors excludes throttles

  void add(double duration, bool error, bool throttle, bool fault);
  void merge(const CallStats& other);
};

struct GraphNode {
  std::string id;    // "client", "service:<name>|<origin>", "remote:<host>", "aws:<name>"
  std::string name;  // as shown
  std::string type;  // origin (e.g. AWS::EC2::Instance), "client", "remote" or AWS::<service>
  std::string kind;  // client, service, remote, aws
  CallStats served;  // segments of a service; empty for other kinds
};

struct GraphEdge {
  std::string from, to;  // node ids
  CallStats calls;
};

// The nodes and edges one trace contributes. Edge keys are "<from> -> <to>".
struct TraceGraph {
  std::map<std::string, GraphNode> nodes;
  std::map<std::string, GraphEdge> edges;
};

// `roots`: an assembled trace's top-level entities (segments with their subsegments, see
// trace_store.hpp). Entities of unexpected shape are skipped, never thrown on.
TraceGraph trace_graph(const nlohmann::json& roots);

// {"nodes":[{id,name,type,kind,count,average_ms,ok,errors,throttles,faults,health}],
//  "edges":[{id,from,to,count,average_ms,error_share,throttle_share,fault_share,...}]}
// health is "ok", "error" (4xx other than throttles), "throttle" or "fault", whichever is worst.
nlohmann::json service_map(const std::vector<const TraceGraph*>& graphs);

}  // namespace xray::local
