// console_api.hpp: what the web console's HTTP server answers, independent of the server: the
// embedded assets at `/`, and the JSON API the console, tests and scripts read.
//
//   GET /api/traces?service=&status=ok|error|throttle|fault&annotation=key=value&q=&since=&until=
//                  &node=&edge=&limit=
//       -> {"traces":[summary, ...] newest first, "matched":n, "total":n, "now":t}
//   GET /api/traces/{id}   -> {"id","summary","roots":[assembled entities],"documents":n} or 404
//   GET /api/service-map?since=&until=  -> {"nodes":[...],"edges":[...],"traces":n}
//   GET /api/stats         -> {"ingest":{...},"store":{...},"sampling":{...},...}
//
// `since`/`until` are epoch seconds compared with a trace's start; `node` and `edge` are ids from
// /api/service-map (traces that touch that node or edge).
//
//   xray::local::ConsoleApi api({&store, &ingest, &proxy, nullptr});
//   xray::local::HttpReply reply = api.get("/api/traces?status=fault", now);
//
// Thread-safe: get may be called concurrently (the sources are thread-safe).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace xray::local {

class Ingest;
class SamplingProxy;
class TraceStore;

struct HttpReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
};

struct ConsoleSources {
  TraceStore* store = nullptr;             // required
  const Ingest* ingest = nullptr;          // optional: ingest counters in /api/stats
  const SamplingProxy* sampling = nullptr;  // optional: sampling statistics in /api/stats
  std::function<nlohmann::json()> more;    // optional: merged into /api/stats (forwarding, ...)
};

class ConsoleApi {
 public:
  explicit ConsoleApi(ConsoleSources sources);

  // Answers a GET of `target` (path and query). Never throws: failures are 500 replies.
  HttpReply get(std::string_view target, double now) const noexcept;

 private:
  HttpReply route(std::string_view path, std::string_view query, double now) const;
  HttpReply traces(std::string_view query, double now) const;
  HttpReply service_map(std::string_view query) const;
  HttpReply statistics() const;

  ConsoleSources sources_;
};

// Percent-decodes a query component ('+' is a space). Exposed for tests.
std::string url_decode(std::string_view text);

}  // namespace xray::local
