// Fuzz target: the daemon address grammar (AWS_XRAY_DAEMON_ADDRESS, spec §1.3).
//
// Properties: parsing never crashes or throws; a failure always says why, in a bounded message;
// an accepted address has non-zero ports and non-empty hosts, and writing it back
// (`udp:<udp> tcp:<tcp>`) parses to the same address.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "xray/daemon_address.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto address = xray::parse_daemon_address(input, &error);
  if (!address) {
    XRAY_FUZZ_CHECK(!error.empty(), "rejected without a reason");
    XRAY_FUZZ_CHECK(error.size() < 1024, "error message grows with the input");
    return 0;
  }
  for (const auto* endpoint : {&address->udp, &address->tcp}) {
    XRAY_FUZZ_CHECK(!endpoint->host.empty(), "accepted an empty host");
    XRAY_FUZZ_CHECK(endpoint->port != 0, "accepted port 0");
    XRAY_FUZZ_CHECK(endpoint->host.find_first_of(" \t\r\n") == std::string::npos,
                    "accepted a host with white space");
  }
  const std::string text = "udp:" + xray::to_string(address->udp) +
                           " tcp:" + xray::to_string(address->tcp);
  std::string again_error;
  const auto again = xray::parse_daemon_address(text, &again_error);
  XRAY_FUZZ_CHECK(again.has_value(), "the written-back address does not parse");
  XRAY_FUZZ_CHECK(*again == *address, "the written-back address parses differently");
  return 0;
}
