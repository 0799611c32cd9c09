#include "xray/trace_context.hpp"

#include <cstddef>

#include "base/ascii.hpp"

namespace xray {
namespace {

using detail::is_lower_hex;

constexpr std::size_t kW3cTraceIdLength = 32;
constexpr std::size_t kParentIdLength = 16;
// "vv-" + trace id + "-" + parent id + "-ff": the whole of version 00, the prefix of later ones.
constexpr std::size_t kVersion00Length = 2 + 1 + kW3cTraceIdLength + 1 + kParentIdLength + 1 + 2;

// X-Ray refuses trace ids whose start second is older than 30 days or more than 5 minutes ahead
// (the limits the OpenTelemetry Collector's X-Ray exporter applies before conversion).
constexpr std::int64_t kMaxTraceAgeSeconds = 30LL * 24 * 60 * 60;
constexpr std::int64_t kMaxClockSkewSeconds = 5LL * 60;

bool all_lower_hex(std::string_view text) noexcept {
  for (const char c : text) {
    if (!is_lower_hex(c)) return false;
  }
  return true;
}

bool all_zero(std::string_view text) noexcept {
  return text.find_first_not_of('0') == std::string_view::npos;
}

int hex_value(char c) noexcept { return c <= '9' ? c - '0' : c - 'a' + 10; }

std::uint32_t parse_hex32(std::string_view eight_digits) noexcept {
  std::uint32_t value = 0;
  for (const char c : eight_digits) value = value * 16 + static_cast<std::uint32_t>(hex_value(c));
  return value;
}

}  // namespace

std::optional<TraceParent> TraceParent::parse(std::string_view value) noexcept {
  value = detail::trim(value);
  if (value.size() < kVersion00Length) return std::nullopt;
  const std::string_view version = value.substr(0, 2);
  if (!all_lower_hex(version) || version == "ff") return std::nullopt;
  if (version == "00") {
    if (value.size() != kVersion00Length) return std::nullopt;
  } else if (value.size() > kVersion00Length && value[kVersion00Length] != '-') {
    // A later version may append fields, always after a '-'.
    return std::nullopt;
  }
  const std::string_view trace_id = value.substr(3, kW3cTraceIdLength);
  const std::string_view parent_id = value.substr(3 + kW3cTraceIdLength + 1, kParentIdLength);
  const std::string_view flags = value.substr(kVersion00Length - 2, 2);
  if (value[2] != '-' || value[3 + kW3cTraceIdLength] != '-' ||
      value[kVersion00Length - 3] != '-') {
    return std::nullopt;
  }
  if (!all_lower_hex(trace_id) || !all_lower_hex(parent_id) || !all_lower_hex(flags)) {
    return std::nullopt;
  }
  if (all_zero(trace_id) || all_zero(parent_id)) return std::nullopt;
  try {
    TraceParent parsed;
    parsed.trace_id = std::string(trace_id);
    parsed.parent_id = std::string(parent_id);
    parsed.flags = static_cast<std::uint8_t>(hex_value(flags[0]) * 16 + hex_value(flags[1]));
    return parsed;
  } catch (...) {
    return std::nullopt;  // out of memory: as if the header were absent
  }
}

std::string TraceParent::to_string() const {
  constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(kVersion00Length);
  out += "00-";
  out += trace_id;
  out += '-';
  out += parent_id;
  out += '-';
  out += kDigits[flags >> 4];
  out += kDigits[flags & 0x0f];
  return out;
}

std::string to_w3c_trace_id(std::string_view xray_trace_id) noexcept {
  if (!TraceHeader::is_valid_root(xray_trace_id)) return {};
  try {
    std::string out;
    out.reserve(kW3cTraceIdLength);
    out.append(xray_trace_id.substr(2, 8));
    out.append(xray_trace_id.substr(11));
    if (all_zero(out)) return {};
    return out;
  } catch (...) {
    return {};
  }
}

std::string to_xray_trace_id(std::string_view w3c_trace_id,
                             std::chrono::system_clock::time_point now) noexcept {
  if (w3c_trace_id.size() != kW3cTraceIdLength || !all_lower_hex(w3c_trace_id) ||
      all_zero(w3c_trace_id)) {
    return {};
  }
  const auto start = static_cast<std::int64_t>(parse_hex32(w3c_trace_id.substr(0, 8)));
  const std::int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (start < now_seconds - kMaxTraceAgeSeconds || start > now_seconds + kMaxClockSkewSeconds) {
    return {};
  }
  try {
    std::string out;
    out.reserve(35);
    out += "1-";
    out.append(w3c_trace_id.substr(0, 8));
    out += '-';
    out.append(w3c_trace_id.substr(8));
    return out;
  } catch (...) {
    return {};
  }
}

TraceHeader to_trace_header(const TraceParent& parent,
                            std::chrono::system_clock::time_point now) noexcept {
  TraceHeader header;
  header.set_sampled(parent.sampled() ? TraceHeader::Sampled::kYes : TraceHeader::Sampled::kNo);
  std::string root = to_xray_trace_id(parent.trace_id, now);
  if (root.empty() || !TraceHeader::is_valid_parent(parent.parent_id)) return header;
  try {
    header.set_parent(parent.parent_id);
    header.set_root(std::move(root));
  } catch (...) {
    header.set_parent({});  // out of memory: a new trace, as for an id that does not convert
  }
  return header;
}

std::optional<TraceParent> to_trace_parent(const TraceHeader& header) noexcept {
  std::string trace_id = to_w3c_trace_id(header.root());
  if (trace_id.empty() || !TraceHeader::is_valid_parent(header.parent())) return std::nullopt;
  try {
    TraceParent parent;
    parent.trace_id = std::move(trace_id);
    parent.parent_id = detail::lowercase(header.parent());
    if (all_zero(parent.parent_id)) return std::nullopt;
    parent.flags = header.sampled() == TraceHeader::Sampled::kYes ? 0x01 : 0x00;
    return parent;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace xray
