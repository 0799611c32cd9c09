// Fuzz target: AWS calls (xray/aws.hpp): recognising a request from hostile host, path, query,
// headers and body, then recording a hostile response (status, headers, body) on a real recorder
// whose emitter checks every datagram.
//
// Input: NUL-separated parts: host, path, query, request headers ("Name: value" lines), request
// body, response status (decimal), response headers, response body.
//
// Properties: nothing crashes or throws; a recognised call names a service; error codes are bare
// (no '#', no ':' suffix); every document is one valid JSON object in valid UTF-8 within the
// datagram limit, and each entity is sent complete once (fuzz_document.hpp).
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "fuzz_document.hpp"
#include "fuzz_split.hpp"
#include "recorder/recorder_core.hpp"
#include "xray/aws.hpp"
#include "xray/xray.hpp"

namespace {

struct Harness {
  xray::fuzz::DocumentChecker checker;
  xray::Recorder recorder;

  Harness() {
    core().set_emitter(std::make_unique<xray::fuzz::CheckingEmitter>(checker, 65000));
    xray::Config config;
    config.service_name = "fuzz-aws";
    config.sampling = false;
    config.daemon_address = "127.0.0.1:2000";
    config.log_level = xray::LogLevel::kSilent;
    config.log_sink = [](xray::LogLevel, std::string_view) {};
    auto result = core().configure(config, [](const char*) -> const char* { return nullptr; });
    XRAY_FUZZ_CHECK(result.ok(), "the fuzz configuration was rejected");
  }
  xray::detail::RecorderCore& core() { return xray::detail::RecorderAccess::core(recorder); }
};

Harness& harness() {
  static Harness* instance = new Harness();  // never destroyed: libFuzzer exits with _exit
  return *instance;
}

xray::aws::Headers header_lines(std::string_view block) {
  xray::aws::Headers headers;
  while (!block.empty()) {
    const auto newline = block.find('\n');
    std::string_view line = block.substr(0, newline);
    block = newline == std::string_view::npos ? std::string_view() : block.substr(newline + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return headers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Harness& h = harness();
  auto parts = xray::fuzz::split_parts(data, size, 8);
  auto part = [&](std::size_t i) { return parts[i].value_or(std::string_view()); };

  const xray::aws::Headers request_headers = header_lines(part(3));
  xray::aws::HttpCall request;
  request.method = "POST";
  request.host = part(0);
  request.path = part(1);
  request.query = part(2);
  request.headers = &request_headers;
  request.body = part(4);
  request.sigv4 =
      size % 3 == 0 ? std::string_view("aws:amz:us-east-1:dynamodb") : std::string_view();

  std::optional<xray::aws::CallIdentity> identity = xray::aws::identify(request);
  if (identity) XRAY_FUZZ_CHECK(!identity->service.empty(), "a recognised call without a service");

  xray::aws::CallOutcome outcome;
  const std::string_view status = part(5);
  std::from_chars(status.data(), status.data() + status.size(), outcome.status);
  outcome.response_headers = header_lines(part(6));
  outcome.response_body = part(7);
  outcome.retries = static_cast<int>(size % 4);

  const xray::aws::ErrorDetails error =
      xray::aws::parse_error(outcome.response_headers, outcome.response_body);
  XRAY_FUZZ_CHECK(error.code.find('#') == std::string::npos, "error code keeps a protocol prefix");
  XRAY_FUZZ_CHECK(error.code.find(':') == std::string::npos, "error code keeps a ':' suffix");

  h.checker.reset();
  {
    auto segment = h.recorder.begin_segment("fuzz-aws");
    const xray::aws::CallIdentity used =
        identity.value_or(xray::aws::CallIdentity{"DynamoDB", "GetItem", ""});
    xray::SubsegmentScope call = xray::aws::begin_call(h.recorder, used);
    xray::aws::record_call(call, used, request, outcome);
  }
  XRAY_FUZZ_CHECK(h.checker.complete_entities() == 2,
                  "the segment and its call were not both sent");
  return 0;
}
