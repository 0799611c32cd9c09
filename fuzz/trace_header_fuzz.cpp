// Fuzz target: the X-Amzn-Trace-Id header value (spec §4.1).
//
// Properties: parsing never crashes; serializing a parsed header and parsing that again gives the
// same header (the round trip is stable), and the serialized form never carries a character that
// could split an HTTP header (CR, LF, NUL).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "xray/trace_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const xray::TraceHeader first = xray::TraceHeader::parse(input);
  const std::string text = first.to_string();
  XRAY_FUZZ_CHECK(text.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
                  "to_string() produced CR, LF or NUL");
  const xray::TraceHeader second = xray::TraceHeader::parse(text);
  XRAY_FUZZ_CHECK(second == first, "parse(to_string(parse(x))) != parse(x)");
  XRAY_FUZZ_CHECK(second.to_string() == text, "to_string is not stable");
  XRAY_FUZZ_CHECK(first.empty() == text.empty(), "empty() disagrees with to_string()");
  return 0;
}
