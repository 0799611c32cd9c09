// Fuzz target: the Elastic Beanstalk environment file (spec §8.5,
// /var/elasticbeanstalk/xray/environment.conf).
//
// Properties: parsing never crashes or throws anything but DetectionError; deployment_id, when
// kept, is an integer; the metadata merged into a segment document keeps it one valid JSON object
// in valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "fuzz_document.hpp"
#include "plugins/plugin_parsers.hpp"
#include "plugins/plugin_support.hpp"

namespace detail = xray::plugins::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    xray::PluginMetadata metadata = detail::elastic_beanstalk_metadata(input, "environment.conf");
    const auto& beanstalk = metadata.aws["elastic_beanstalk"];
    XRAY_FUZZ_CHECK(beanstalk.is_object() && !beanstalk.empty(), "aws.elastic_beanstalk empty");
    if (beanstalk.contains("deployment_id")) {
      XRAY_FUZZ_CHECK(beanstalk["deployment_id"].is_number_integer(),
                      "deployment_id is not an integer");
    }
    xray::fuzz::check_plugin_document(metadata.origin, metadata.aws);
  } catch (const detail::DetectionError&) {
  }
  return 0;
}
