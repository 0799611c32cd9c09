// log_correlation: trace ids in spdlog lines, and a trace shared with an OpenTelemetry neighbour
// through W3C traceparent.
//
// One "request" arrives from a caller on OpenTelemetry with only a `traceparent` header: the
// service continues that trace (the W3C trace id becomes the X-Ray trace id), logs with the `%k`
// flag, and prints the X-Amzn-Trace-Id and traceparent it would send to the next service. A second,
// unsampled request shows that its lines carry no ids (AWS_XRAY_NOOP_ID unset: no-op ids).
//
//   AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000 ./log_correlation
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "xray/spdlog.hpp"
#include "xray/xray.hpp"

namespace {

// What an OpenTelemetry caller sends: a W3C trace id whose first 8 hex digits are the current
// second (as the AWS X-Ray id generator of OpenTelemetry makes them), so X-Ray can take it.
std::string incoming_traceparent() {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  char start[9];
  std::snprintf(start, sizeof start, "%08llx", static_cast<unsigned long long>(now.count()));
  return std::string("00-") + start + "4bf92f3577b34da6a3ce929d-00f067aa0ba902b7-01";
}

void handle(xray::Recorder& recorder, spdlog::logger& log, const xray::TraceHeader& upstream) {
  auto segment = recorder.begin_segment("orders", upstream);
  log.info("order received");
  {
    auto query = recorder.begin_subsegment("inventory");
    query.set_namespace("remote");
    log.info("checking stock");
    const xray::TraceHeader outbound = query.outbound_header();
    const std::optional<xray::TraceParent> w3c = xray::to_trace_parent(outbound);
    log.info("downstream X-Amzn-Trace-Id: {}", outbound.to_string());
    log.info("downstream traceparent: {}", w3c ? w3c->to_string() : std::string("(none)"));
  }
  log.info("order placed");
}

}  // namespace

int main() {
  xray::Config config;
  config.service_name = "orders";
  config.sampling = false;  // every request that does not say otherwise is sampled
  xray::Recorder& recorder = xray::Recorder::global();
  if (!recorder.configure(config).ok()) return 1;

  auto log = spdlog::stdout_logger_st("orders");
  log->set_formatter(xray::make_spdlog_formatter("[%l] %k %v"));

  const std::string traceparent = incoming_traceparent();
  log->info("request 1: traceparent {}", traceparent);
  const std::optional<xray::TraceParent> parsed = xray::TraceParent::parse(traceparent);
  handle(recorder, *log, parsed ? xray::to_trace_header(*parsed) : xray::TraceHeader());

  log->info("request 2: X-Amzn-Trace-Id Sampled=0");
  handle(recorder, *log, xray::TraceHeader::parse("Sampled=0"));

  recorder.flush(std::chrono::seconds(2));
  return 0;
}
