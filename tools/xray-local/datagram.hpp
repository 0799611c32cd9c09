// datagram.hpp: what xray-local accepts on its UDP port, and why it refuses the rest.
//
//   auto parsed = xray::local::parse_datagram(bytes);
//   if (parsed.problem != DatagramProblem::kNone) counters.rejected(parsed.problem);
//   else store.add(std::move(parsed.document), now);
//
// The daemon's own checks (wire spec §1.1: a header line whose `format` is "json" in any case and
// whose `version` is 1, then a body) plus the ones X-Ray makes later and that a console needs to
// file a document: the body is one JSON object with string `name`, `id` and `trace_id`. Documents
// nested deeper than kMaxDepth are refused before parsing, so no walk over a document can run out
// of stack. Fields the segment document does not define are kept and reported (`unknown_fields`).
//
// Thread safety: free functions on values; safe to call concurrently.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace xray::local {

enum class DatagramProblem {
  kNone,
  kTruncated,         // longer than the receive buffer (64 KiB): the kernel cut it
  kMissingBody,       // no newline, or nothing after it
  kInvalidHeader,     // header not JSON, or not format json / version 1
  kInvalidJson,       // body is not valid JSON (a cut datagram ends up here)
  kNotAnObject,       // body is JSON but not an object
  kTooDeep,           // nested deeper than kMaxDepth
  kNotADocument,      // no string name, id and trace_id
};
inline constexpr int kDatagramProblemCount = 8;
inline constexpr int kMaxDepth = 64;

// A stable snake_case name, used as the counter's key in the JSON API.
std::string_view to_string(DatagramProblem problem) noexcept;

struct Datagram {
  DatagramProblem problem = DatagramProblem::kNone;
  nlohmann::json document;                  // the body, when problem is kNone
  std::vector<std::string> unknown_fields;  // top-level fields a segment document does not define
};

// Never throws: every problem is reported in the result.
Datagram parse_datagram(std::string_view bytes) noexcept;

}  // namespace xray::local
