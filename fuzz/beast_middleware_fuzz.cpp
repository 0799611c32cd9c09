// Fuzz target: incoming HTTP requests through the Beast middleware (integrations/beast,
// xray/beast.hpp). The input is two option bytes followed by raw request bytes, parsed by Beast's
// own request parser as a server would; a request whose header parses is traced with
// RequestTracer (X-Amzn-Trace-Id, Host, X-Forwarded-For/-Proto, User-Agent, absolute-form
// targets), answered, and ended. The recorder's emitter runs the real size ladder synchronously.
//
// Properties: nothing crashes or throws; the response's X-Amzn-Trace-Id never carries CR, LF or
// NUL; each sampled request produces exactly one segment document with every property of
// fuzz_document.hpp (one valid JSON object in valid UTF-8, no raw newline, clean name, within the
// datagram limit); the thread's context stack is left empty.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "fuzz_check.hpp"
#include "fuzz_document.hpp"
#include "recorder/recorder_core.hpp"
#include "xray/beast.hpp"

namespace {

namespace http = boost::beast::http;
using xray::fuzz::CheckingEmitter;
using xray::fuzz::DocumentChecker;

constexpr std::size_t kMaxBytes = 65000;

struct Harness {
  DocumentChecker checker;
  CheckingEmitter* emitter = nullptr;
  xray::Recorder recorder;

  Harness() {
    auto capture = std::make_unique<CheckingEmitter>(checker, kMaxBytes);
    emitter = capture.get();
    auto& core = xray::detail::RecorderAccess::core(recorder);
    core.set_emitter(std::move(capture));
    xray::Config config;
    config.service_name = "fuzz-service";
    config.sampling = false;  // sample everything unless the request says Sampled=0
    config.daemon_address = "127.0.0.1:2000";
    config.log_level = xray::LogLevel::kSilent;
    config.log_sink = [](xray::LogLevel, std::string_view) {};
    config.max_datagram_bytes = kMaxBytes;
    auto result = core.configure(config, [](const char*) -> const char* { return nullptr; });
    XRAY_FUZZ_CHECK(result.ok(), "the fuzz configuration was rejected");
  }
};

Harness& harness() {
  static Harness* instance = new Harness();  // never destroyed: libFuzzer exits with _exit
  return *instance;
}

constexpr unsigned kStatuses[] = {200, 201, 204, 301, 400, 404, 429, 500, 503, 999};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t flags = data[0];
  const std::uint8_t answer = data[1];
  data += 2;
  size -= 2;

  http::request_parser<http::empty_body> parser;
  parser.header_limit(16 * 1024);
  parser.eager(false);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!parser.is_header_done()) return 0;  // not a request a server would hand over

  Harness& h = harness();
  h.checker.reset();
  h.emitter->reset_counts();

  xray::beast::ServerOptions options;
  options.recorder = &h.recorder;
  if (flags & 0x01) options.name = "fixed-name";
  if (flags & 0x02) options.host_pattern = (flags & 0x40) ? "*.example.com" : "*";
  if (flags & 0x04) options.record_query = true;
  if (flags & 0x08) options.trust_incoming_header = false;
  if (flags & 0x10) options.add_response_header = false;
  if (flags & 0x20) options.fallback_name = "fallback";
  if (flags & 0x80) options.scheme = "https";

  const http::request<http::empty_body>& request = parser.get();
  bool sampled = false;
  {
    xray::beast::RequestTracer tracer(request, (answer & 0x80) ? "::1" : "10.0.0.1", options);
    sampled = tracer.segment().sampled();
    http::response<http::string_body> response;
    response.result(kStatuses[(answer & 0x7F) % (sizeof kStatuses / sizeof kStatuses[0])]);
    const unsigned status = response.result_int();
    if (status != 204 && status != 304) response.body() = "hello";  // Beast refuses bodies there
    response.prepare_payload();
    if (answer & 0x40) {
      tracer.record_exception(std::make_exception_ptr(std::runtime_error("handler failed")));
    } else {
      tracer.record_response(response);
    }
    auto header = response.find("X-Amzn-Trace-Id");
    if (header != response.end()) {
      const std::string value(header->value());
      XRAY_FUZZ_CHECK(value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
                      "the response's X-Amzn-Trace-Id carries CR, LF or NUL");
    }
    tracer.end();
  }
  XRAY_FUZZ_CHECK(xray::current_context().empty(), "the tracer left an entity on the stack");
  XRAY_FUZZ_CHECK(h.checker.complete_entities() + h.emitter->dropped() == (sampled ? 1u : 0u),
                  "a sampled request did not produce exactly one segment");
  return 0;
}
