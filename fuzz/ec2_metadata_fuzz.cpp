// Fuzz target: what IMDS answers the EC2 plugin (spec §8.2): the IMDSv2 token body and the
// instance identity document. The whole input is given to both.
//
// Properties: neither parser crashes or throws anything but DetectionError; an accepted token is
// visible ASCII only (it is sent back as a header value: CR, LF or NUL would split the request);
// the metadata merged into a segment document keeps it one valid JSON object in valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "fuzz_document.hpp"
#include "plugins/plugin_parsers.hpp"
#include "plugins/plugin_support.hpp"

namespace detail = xray::plugins::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto token = detail::imds_token(200, input)) {
    XRAY_FUZZ_CHECK(!token->empty(), "accepted an empty token");
    for (char c : *token) {
      XRAY_FUZZ_CHECK(c >= 0x21 && c <= 0x7E, "accepted a token that is not visible ASCII");
    }
  }
  XRAY_FUZZ_CHECK(!detail::imds_token(401, input), "accepted a token from a refusal");

  auto identity = detail::parse_json_object(input);
  if (!identity) return 0;
  try {
    xray::PluginMetadata metadata = detail::ec2_metadata(*identity);
    XRAY_FUZZ_CHECK(metadata.aws.is_object() && metadata.aws["ec2"]["instance_id"].is_string(),
                    "aws.ec2.instance_id missing");
    xray::fuzz::check_plugin_document(metadata.origin, metadata.aws);
  } catch (const detail::DetectionError&) {
    // A document without instanceId: the plugin reports it and contributes nothing.
  }
  return 0;
}
