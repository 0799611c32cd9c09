// trace_store.hpp: every document xray-local received, filed by trace, within a memory bound.
//
//   xray::local::TraceStore store({/*max_traces=*/10000, /*max_bytes=*/256 << 20});
//   store.add(std::move(document), now);               // from parse_datagram
//   store.for_each([](const TraceStore::View& trace) { ...; return true; });
//   std::optional<nlohmann::json> trace = store.trace("1-5759e988-bd862e3fe1be46a994272793");
//
// Documents are kept as they arrived, one per entity id within a trace: a later document with the
// same id replaces the earlier one (an `in_progress` document replaced by its complete version),
// except that an `in_progress` document never replaces a complete one. Trees are assembled when
// asked for (trace_assembly.hpp); a trace's summary and service-map contribution are computed once
// per change, on the first query after it.
//
// Bounded: when the traces held exceed `max_traces`, or their estimated size `max_bytes`, the
// traces first received longest ago are evicted, and counted. The size is an estimate of the heap
// used by the parsed documents (approximate_bytes) and by the cached summaries and graphs; the
// bound is enforced as each document arrives (a query's new caches count from the next one).
//
// Thread-safe: every member may be called concurrently (one mutex; queries hold it while they run).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "service_map.hpp"
#include "trace_summary.hpp"

namespace xray::local {

struct StoreLimits {
  std::size_t max_traces = 100000;
  std::size_t max_bytes = std::size_t{512} << 20;
};

struct StoreCounters {
  std::uint64_t documents = 0;             // accepted into the store
  std::uint64_t segments = 0;              // ... of which segments
  std::uint64_t independent_subsegments = 0;
  std::uint64_t replaced_in_progress = 0;  // an in_progress document replaced by a newer version
  std::uint64_t replaced_other = 0;        // a complete document sent again
  std::uint64_t stale_in_progress = 0;     // an in_progress document after its complete version
  std::uint64_t evicted_traces = 0;
  std::uint64_t evicted_documents = 0;
  std::size_t traces = 0;  // held now
  std::size_t bytes = 0;   // estimated, held now
};

// An estimate of the heap a parsed JSON value uses (nodes, map entries, string buffers).
std::size_t approximate_bytes(const nlohmann::json& value) noexcept;

class TraceStore {
 public:
  explicit TraceStore(StoreLimits limits = {});

  // Files a document that has string `id` and `trace_id` (parse_datagram checked them); others
  // are ignored. `now`: epoch seconds of receipt.
  void add(nlohmann::json document, double now);

  struct View {
    const std::string& id;
    const TraceSummary& summary;
    const TraceGraph& graph;
    double last_received;
  };
  // Calls `visit` for every trace held (in no particular order) until it returns false. Runs under
  // the store's lock: `visit` must not call back into the store.
  void for_each(const std::function<bool(const View&)>& visit);
  // Calls `run` once, under the store's lock, with a view of every trace held: for queries that
  // select a few traces out of many without copying the rest. `run` must not call back into the
  // store, and must not keep the views.
  void with_all(const std::function<void(const std::vector<View>&)>& run);

  // {"id", "summary", "roots": assembled entities, "documents": count}, or nullopt if not held.
  std::optional<nlohmann::json> trace(const std::string& trace_id);

  StoreCounters counters() const;
  StoreLimits limits() const { return limits_; }

 private:
  struct Document {
    nlohmann::json json;
    std::size_t bytes = 0;
  };
  struct Trace {
    std::string id;
    std::map<std::string, Document> documents;  // by entity id
    std::size_t bytes = 0;
    double last_received = 0;
    std::list<std::string>::iterator age;  // position in order_
    bool fresh = false;                    // summary and graph are up to date
    std::size_t cache_bytes = 0;           // their estimated size, part of `bytes`
    TraceSummary summary;
    TraceGraph graph;
  };

  nlohmann::json assemble_locked(const Trace& trace) const;
  void refresh_locked(Trace& trace);
  void evict_locked();

  const StoreLimits limits_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Trace> traces_;  // guarded by mutex_
  std::list<std::string> order_;                   // trace ids, first received first; mutex_
  StoreCounters counters_;                         // mutex_
};

}  // namespace xray::local
