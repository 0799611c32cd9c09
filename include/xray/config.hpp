// xray/config.hpp: recorder configuration, set in code.
//
//   xray::Config config;
//   config.service_name = "orders";
//   config.daemon_address = "127.0.0.1:2000";
//   auto result = xray::Recorder::global().configure(config);
//   if (!result.ok()) { for (auto& e : result.errors) std::cerr << e << '\n'; }
//
// Environment variables win over code (see README, "Configuration"): AWS_XRAY_TRACING_NAME,
// AWS_XRAY_DAEMON_ADDRESS, AWS_XRAY_CONTEXT_MISSING, AWS_XRAY_SDK_ENABLED / AWS_XRAY_SDK_DISABLED,
// AWS_XRAY_NOOP_ID, AWS_XRAY_LOG_LEVEL, AWS_XRAY_COLLECT_SQL_QUERIES.
//
// Thread safety: a plain value type.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xray/log.hpp"
#include "xray/plugin.hpp"
#include "xray/sampling.hpp"

namespace xray {

// What happens when an operation needs a current segment or subsegment and there is none.
enum class ContextMissing {
  kLogError,     // log a rate-limited error, return a no-op scope (default)
  kIgnoreError,  // return a no-op scope silently
  kRuntimeError  // throw xray::ContextMissingError
};

// Emission defaults and bounds, in one place: Config's defaults and the emitter's both use these.
inline constexpr std::size_t kDefaultQueueCapacity = 2048;
// What Config::queue_capacity_bytes assumes a document holds in memory by default. 2048 of them
// (5.5 MiB) is the default byte bound, which keeps what the SDK adds under sustained overload below
// 8 MB of resident memory, and 16,384 of them still take a burst of 10,000 segments with three
// subsegments each. bench/emitter_bench.cpp, BM_OverloadMemory, measures it.
inline constexpr std::size_t kTypicalDocumentBytes = 2816;
inline constexpr std::size_t kDefaultMaxDatagramBytes = 65000;
inline constexpr std::size_t kMinDatagramBytes = 1024;
inline constexpr std::size_t kMaxDatagramBytes = 65507;  // the IPv4 UDP payload maximum (spec §1.2)
inline constexpr double kDefaultEmitRate = 5000;         // datagrams per second
inline constexpr std::size_t kDefaultEmitBurst = 64;     // see Config::emit_burst

struct Config {
  // Name of every segment this recorder begins without a name of its own; also the sampler's
  // service name. AWS_XRAY_TRACING_NAME overrides it.
  std::string service_name;
  // Recorded as service.version on segments.
  std::string service_version;
  // Environment detectors; see xray/plugins.hpp.
  std::vector<std::shared_ptr<const Plugin>> plugins;
  // Total time plugins may spend detecting.
  std::chrono::milliseconds plugin_budget{1000};
  // true: built-in rule (1/s then 5%); false: sample everything; or a strategy object.
  Sampling sampling = true;
  // `host:port`, `[v6]:port` or `udp:host:port tcp:host:port`; empty = 127.0.0.1:2000.
  std::string daemon_address;
  ContextMissing context_missing = ContextMissing::kLogError;
  // Called (instead of the built-in log line) when the context is missing under kLogError; receives
  // the operation's description. Exceptions it throws are swallowed.
  std::function<void(std::string_view what)> context_missing_callback;
  LogLevel log_level = LogLevel::kWarn;
  // Null: stderr.
  LogSink log_sink;
  // Stream completed subtrees of a segment holding more than this many subsegments.
  std::size_t streaming_threshold = 100;
  // Subsegments still open this long after their segment ended: the segment is sent with them as
  // in_progress, and each is sent on its own when it ends (so an abandoned handle neither leaks
  // nor loses the trace).
  std::chrono::milliseconds abandoned_subsegment_timeout{60000};
  // When positive, a segment still open after this long is sent once as in_progress, so a hung
  // request is visible; the complete document replaces it. Off by default.
  std::chrono::milliseconds in_progress_after{0};
  // Stream completed subtrees once a segment's estimated document size passes this many bytes;
  // 0: three quarters of max_datagram_bytes.
  std::size_t streaming_threshold_bytes = 0;
  // Documents waiting for the emitter thread; when full, new documents are dropped and counted
  // (Stats::dropped_queue_full).
  std::size_t queue_capacity = kDefaultQueueCapacity;
  // Memory the queued documents may hold, in bytes, by the SDK's estimate (their entities and
  // recorded fields, kept as fields are recorded: nothing is serialized on the request thread),
  // counting those the emitter thread is still sending: what bounds the SDK's memory under
  // overload, and when documents are large. A document that does not fit is dropped and counted
  // like one refused by queue_capacity; an empty queue takes a document of any size. 0:
  // queue_capacity * kTypicalDocumentBytes, so raising queue_capacity raises both bounds.
  std::size_t queue_capacity_bytes = 0;
  // Largest datagram sent (header, newline and document): kMinDatagramBytes to kMaxDatagramBytes.
  // Larger documents are split, then truncated, then dropped (counted in stats()).
  std::size_t max_datagram_bytes = kDefaultMaxDatagramBytes;
  // Emission pace, datagrams per second, in bursts of up to `emit_burst`: sized so the daemon's
  // default receive buffer is never overrun by bursts of ended segments. The kernel charges each
  // queued datagram about 2.3 KB whatever its size, so the default 212,992-byte buffer holds about
  // 92 datagrams: a burst of 64 leaves a third of it for the reader's scheduling delays, and
  // 5,000/s is a tenth of what one reader drains. 0: unpaced.
  double emit_rate = kDefaultEmitRate;
  std::size_t emit_burst = kDefaultEmitBurst;
  // Record sql.sanitized_query (also AWS_XRAY_COLLECT_SQL_QUERIES=true).
  bool collect_sql_queries = false;
  // Time given to sending what is queued when the recorder is destroyed (process exit).
  std::chrono::milliseconds shutdown_timeout{1000};
  // Disables the SDK entirely: every call is a no-op (also AWS_XRAY_SDK_ENABLED=false or
  // AWS_XRAY_SDK_DISABLED=true).
  bool enabled = true;
  // AWS Lambda mode (spec §11; xray/lambda.hpp): nullopt detects it from LAMBDA_TASK_ROOT. In
  // Lambda, the function's segment is the facade Lambda records: beginning a segment is refused
  // (a rate-limited warning, an inert scope), each subsegment is sent as soon as it ends (the
  // streaming thresholds are 0), no plugins run and sampling is the facade's decision.
  std::optional<bool> lambda;
};

// What `Recorder::configure` rejected. Each rejected field keeps its previous value; the rest of
// the configuration is applied.
struct ConfigResult {
  std::vector<std::string> errors;
  bool ok() const noexcept { return errors.empty(); }
};

}  // namespace xray
