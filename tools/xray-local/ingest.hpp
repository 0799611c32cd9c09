// ingest.hpp: the path of one datagram from the UDP socket to the trace store, with the counts
// the console shows (bad datagrams by kind, documents with fields X-Ray does not define).
//
//   xray::local::Ingest ingest(store, [](const nlohmann::json& doc, std::string_view) { print(doc); });
//   ingest.on_datagram(bytes, /*truncated=*/false, now);
//
// Bad input is counted, never fatal: on_datagram does not throw.
//
// Thread-safe: on_datagram and statistics may be called concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "datagram.hpp"
#include "trace_store.hpp"

namespace xray::local {

class Ingest {
 public:
  // Called on the receiving thread for each accepted document, before it is stored; `body` is
  // the document's text as it arrived.
  using DocumentSink = std::function<void(const nlohmann::json& document, std::string_view body)>;
  // Called for each refused datagram with its problem and size.
  using ProblemSink = std::function<void(DatagramProblem problem, std::size_t bytes)>;

  explicit Ingest(TraceStore& store, DocumentSink on_document = {}, ProblemSink on_problem = {});

  void on_datagram(std::string_view bytes, bool truncated, double now) noexcept;

  // {"datagrams","bytes","accepted","rejected","problems":{kind:n},"unknown_fields":
  //  {"documents":n,"names":{name:n}},"last_problem":{"kind","bytes","at"}|null}
  nlohmann::json statistics() const;

 private:
  TraceStore& store_;
  const DocumentSink on_document_;
  const ProblemSink on_problem_;
  mutable std::mutex mutex_;
  std::uint64_t datagrams_ = 0, bytes_ = 0, accepted_ = 0;              // guarded by mutex_
  std::array<std::uint64_t, kDatagramProblemCount> problems_{};         // mutex_
  std::uint64_t unknown_field_documents_ = 0;                           // mutex_
  std::map<std::string, std::uint64_t> unknown_field_names_;            // mutex_, at most 100
  DatagramProblem last_problem_ = DatagramProblem::kNone;               // mutex_
  std::size_t last_problem_bytes_ = 0;                                  // mutex_
  double last_problem_at_ = 0;                                          // mutex_
};

}  // namespace xray::local
