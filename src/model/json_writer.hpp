// Internal: a small streaming JSON writer appending to a caller-owned buffer.
//
// The emitter reuses one buffer for every document, so writing allocates only when a document is
// larger than any before. Output is always valid JSON: strings are escaped per RFC 8259 (control
// characters as \u00XX) and invalid UTF-8 becomes U+FFFD; non-finite numbers are written as null.
//
// Thread safety: thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace xray::detail {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  // Writes `"key":` (with a comma first when needed). Keys are escaped like strings.
  void key(std::string_view key);

  void string(std::string_view value);
  void integer(std::int64_t value);
  void unsigned_integer(std::uint64_t value);
  void number(double value);  // shortest round-trip; null if not finite
  void boolean(bool value);
  void null();
  // Epoch microseconds as seconds with exactly six fractional digits: 1480615200.010123.
  void epoch_seconds(std::int64_t epoch_us);
  // 16 lowercase hex digits.
  void id(std::uint64_t id);
  // Any JSON value, via nlohmann (invalid UTF-8 replaced, non-finite numbers as null).
  void json(const nlohmann::json& value);

  std::string& buffer() { return out_; }

 private:
  void separator();

  std::string& out_;
  // One bit per nesting level (up to 64): whether the container already has an element.
  std::uint64_t has_element_ = 0;
  int depth_ = 0;
  bool after_key_ = false;
};

// Appends `value` to `out` as a JSON string body (no quotes), escaping and replacing invalid UTF-8.
void append_escaped(std::string& out, std::string_view value);

}  // namespace xray::detail
