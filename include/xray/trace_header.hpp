// xray/trace_header.hpp: the X-Amzn-Trace-Id header.
//
//   auto header = xray::TraceHeader::parse(request["X-Amzn-Trace-Id"]);
//   auto segment = recorder.begin_segment("orders", header);
//
// Parsing is syntactic and never fails: unknown or malformed parts are ignored, unknown keys are kept
// (verbatim, in order, within a 256-byte budget; Lineage is exempt) and propagated downstream.
// Whether Root and Parent are valid ids is decided when a segment adopts the header
// (`is_valid_root`, `is_valid_parent`).
//
// Thread safety: a value type; distinct objects are safe, a shared object is safe for const use.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xray/export.hpp"

namespace xray {

class XRAY_EXPORT TraceHeader {
 public:
  enum class Sampled { kUnknown, kYes, kNo, kRequested };

  // Budget for extra key=value pairs (key + value bytes), Lineage excluded.
  static constexpr std::size_t kExtrasBudgetBytes = 256;
  // The HTTP header name, as written on outgoing requests and responses.
  static constexpr std::string_view kHeaderName = "X-Amzn-Trace-Id";

  TraceHeader() = default;

  // Parses a header value. Never throws; anything unrecognisable is ignored.
  static TraceHeader parse(std::string_view value) noexcept;

  // `Root=..;Parent=..;Sampled=..;k=v...`, omitting what is unset; "" when nothing is set.
  std::string to_string() const noexcept;

  const std::string& root() const noexcept { return root_; }
  const std::string& parent() const noexcept { return parent_; }
  Sampled sampled() const noexcept { return sampled_; }
  // Extra pairs (Lineage included, Self never), in arrival order.
  const std::vector<std::pair<std::string, std::string>>& extras() const noexcept { return extras_; }
  bool empty() const noexcept;

  void set_root(std::string root) noexcept {
    root_ = std::move(root);
    root_valid_ = is_valid_root(root_);
  }
  void set_parent(std::string parent) noexcept { parent_ = std::move(parent); }
  void set_sampled(Sampled sampled) noexcept { sampled_ = sampled; }
  // Adds an extra pair if it fits the budget (Lineage always fits). Returns whether it was kept.
  bool add_extra(std::string key, std::string value) noexcept;
  void clear_extras() noexcept {
    extras_.clear();
    extras_bytes_ = 0;
  }

  // `1-` + 8 lowercase hex + `-` + 24 lowercase hex.
  static bool is_valid_root(std::string_view root) noexcept;
  // is_valid_root(root()), worked out once when the root is set (parse or set_root): a request
  // path that begins a segment from this header does not validate it again.
  bool has_valid_root() const noexcept { return root_valid_; }
  // 16 hex digits, either case.
  static bool is_valid_parent(std::string_view parent) noexcept;

  friend bool operator==(const TraceHeader& a, const TraceHeader& b) noexcept {
    return a.root_ == b.root_ && a.parent_ == b.parent_ && a.sampled_ == b.sampled_ &&
           a.extras_ == b.extras_;
  }
  friend bool operator!=(const TraceHeader& a, const TraceHeader& b) noexcept { return !(a == b); }

 private:
  std::string root_;
  std::string parent_;
  bool root_valid_ = false;
  Sampled sampled_ = Sampled::kUnknown;
  std::vector<std::pair<std::string, std::string>> extras_;
  std::size_t extras_bytes_ = 0;
};

}  // namespace xray
