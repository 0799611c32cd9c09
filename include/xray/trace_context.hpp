// xray/trace_context.hpp: the bridge between X-Ray ids and W3C Trace Context (`traceparent`), for
// services that talk to OpenTelemetry-instrumented neighbours while they migrate.
//
//   X-Ray trace id   1-5759e988-bd862e3fe1be46a994272793   <->  W3C trace id
//   5759e988bd862e3fe1be46a994272793 X-Ray entity id  53995c3f42cd8ad8                      <-> W3C
//   parent (span) id Sampled=1 / 0                                          <->  trace-flags bit 0
//   (01 / 00)
//
//   auto parent = xray::TraceParent::parse(request["traceparent"]);
//   if (parent) header = xray::to_trace_header(*parent);   // Root only when the id can be X-Ray's
//
// Every W3C trace id that X-Ray itself produced converts back; an arbitrary one (OpenTelemetry's
// default generator draws 128 random bits) usually cannot, because X-Ray reads its first 8 hex
// digits as the trace's start second and refuses ids older than 30 days or more than 5 minutes
// ahead. Such a trace continues as a new X-Ray trace; the middleware then records the W3C ids in
// the segment's `w3c` metadata so that both can be correlated.
//
// Nothing here throws: out of memory gives the "not convertible" answer.
// Thread safety: value types and pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "xray/export.hpp"
#include "xray/trace_header.hpp"

namespace xray {

// A parsed `traceparent` header (W3C Trace Context, level 1).
struct XRAY_EXPORT TraceParent {
  // The HTTP header names, as written on outgoing requests.
  static constexpr std::string_view kHeaderName = "traceparent";
  static constexpr std::string_view kStateHeaderName = "tracestate";

  std::string trace_id;   // 32 lowercase hex digits, not all zero
  std::string parent_id;  // 16 lowercase hex digits, not all zero
  std::uint8_t flags = 0;

  bool sampled() const noexcept { return (flags & 0x01) != 0; }

  // Parses a header value, spaces and tabs around it ignored. Version 00 must be exactly
  // `00-<32 hex>-<16 hex>-<2 hex>`; a later version (not ff) may continue after the flags with
  // `-...`. Hex digits are lowercase. Returns nothing for anything else; never throws.
  static std::optional<TraceParent> parse(std::string_view value) noexcept;

  // `00-<trace_id>-<parent_id>-<flags>`.
  std::string to_string() const;
};

// `1-5759e988-bd862e3fe1be46a994272793` -> `5759e988bd862e3fe1be46a994272793`; "" when
// `xray_trace_id` is not a valid X-Ray trace id (spec §4.3), the no-op id (all zero) included.
XRAY_EXPORT std::string to_w3c_trace_id(std::string_view xray_trace_id) noexcept;

// The reverse, when the W3C id can be an X-Ray trace id: 32 lowercase hex digits whose first 8
// are an epoch second within [now - 30 days, now + 5 minutes]. "" otherwise.
XRAY_EXPORT std::string to_xray_trace_id(
    std::string_view w3c_trace_id,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) noexcept;

// The X-Amzn-Trace-Id equivalent of an incoming `traceparent`: Sampled from the flags, and Root
// and Parent when the trace id converts. Without Root, adopting it starts a new X-Ray trace (as
// an invalid Root does) that still obeys the caller's sampling decision.
XRAY_EXPORT TraceHeader to_trace_header(
    const TraceParent& parent,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) noexcept;

// The `traceparent` equivalent of an outbound X-Amzn-Trace-Id (`Context::outbound_header()` or a
// scope's): nothing when it has no valid Root or no Parent (no-op ids, spec §3).
XRAY_EXPORT std::optional<TraceParent> to_trace_parent(const TraceHeader& header) noexcept;

}  // namespace xray
