// Fuzz target: sampling rule patterns (spec §7.3) as compiled when rules load, against the text of
// a request attribute. Input: pattern, NUL, text.
//
// Properties: the compiled matcher (WildcardPattern: any, literal, prefix, suffix, prefix-suffix,
// general) answers exactly as wildcard_match, case-insensitive and case-sensitive, and never reads
// outside the text (ASan); its inline filter never rejects a text the pattern matches, and decides
// alone when it says it is exact.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "fuzz_split.hpp"
#include "sampling/wildcard_pattern.hpp"
#include "xray/wildcard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = xray::fuzz::split_parts(data, size, 2);
  const std::string pattern(parts[0].value_or(""));
  // A copy of exactly the text's bytes, so a read past its end is an ASan report.
  const std::string text(parts[1].value_or(""));
  for (bool case_insensitive : {true, false}) {
    const xray::detail::WildcardPattern compiled(pattern, case_insensitive);
    const bool expected = xray::wildcard_match(pattern, text, case_insensitive);
    XRAY_FUZZ_CHECK(compiled.matches(text) == expected, "compiled pattern disagrees");
    const auto filter = compiled.filter();
    const bool passes = filter.passes(text);
    XRAY_FUZZ_CHECK(passes || !expected, "the filter rejects a matching text");
    XRAY_FUZZ_CHECK(!filter.exact || passes == expected, "an exact filter disagrees");
  }
  return 0;
}
