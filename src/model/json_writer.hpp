// Internal: a small streaming JSON writer appending to a caller-owned buffer.
//
// The emitter reuses one buffer for every document, so writing allocates only when a document is
// larger than any before. Output is always valid JSON: strings are escaped per RFC 8259 (control
// characters as \u00XX) and invalid UTF-8 becomes U+FFFD; non-finite numbers are written as null.
//
// Two modes. kDirect (the default) appends each value to the buffer as it is written, so the
// buffer can be read between calls. kStaged collects output in a small array inside the writer and
// appends it to the buffer a few hundred bytes at a time (and when buffer() is called or the writer
// is destroyed): the serializer's mode, where a document is hundreds of tiny writes and
// std::string's per-append bookkeeping would otherwise be most of the cost.
//
// Thread safety: thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace xray::detail {

class JsonWriter {
 public:
  enum Mode { kDirect, kStaged };

  explicit JsonWriter(std::string& out, Mode mode = kDirect) : out_(out), staged_(mode == kStaged) {}
  ~JsonWriter() { flush(); }
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  // Writes `"key":` (with a comma first when needed). Keys are escaped like strings.
  void key(std::string_view key);
  // The same for a key the caller knows needs no escaping (printable ASCII without '"' or '\\'):
  // the serializer's own field names, written without scanning them.
  void plain_key(std::string_view key) {
    separator();
    after_key_ = true;
    put('"');
    put(key);
    put("\":", 2);
    done();
  }

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

  // Everything written so far, staged output included.
  std::string& buffer() {
    flush();
    return out_;
  }

 private:
  static constexpr std::size_t kStageBytes = 512;

  // Whether the next element needs a comma before it; records that the container has one.
  bool needs_comma();
  void separator() {
    if (needs_comma()) put(',');
  }
  void put(char c) {
    if (used_ == kStageBytes) flush();
    stage_[used_++] = c;
  }
  void put(const char* data, std::size_t size) {
    if (size > kStageBytes - used_) {
      flush();
      if (size > kStageBytes) {
        out_.append(data, size);
        return;
      }
    }
    std::memcpy(stage_ + used_, data, size);
    used_ += size;
  }
  void put(std::string_view text) { put(text.data(), text.size()); }
  void put_escaped(std::string_view value);
  // The last byte written (the buffer's, when nothing is staged); '\0' if none.
  char last() const;
  // End of a public call: in kDirect mode, the value reaches the buffer now.
  void done() {
    if (!staged_) flush();
  }
  void flush() {
    if (used_ == 0) return;
    out_.append(stage_, used_);
    used_ = 0;
  }

  std::string& out_;
  const bool staged_;
  // One bit per nesting level (up to 64): whether the container already has an element.
  std::uint64_t has_element_ = 0;
  int depth_ = 0;
  bool after_key_ = false;
  std::size_t used_ = 0;
  char stage_[kStageBytes];
};

// Appends `value` to `out` as a JSON string body (no quotes), escaping and replacing invalid UTF-8.
void append_escaped(std::string& out, std::string_view value);

}  // namespace xray::detail
