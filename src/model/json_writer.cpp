#include "model/json_writer.hpp"

#include <charconv>
#include <cmath>
#include <cstddef>

#include "model/ids.hpp"
#include "model/utf8.hpp"

namespace xray::detail {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr int kTrackedDepth = 64;                          // bits in has_element_

// Bytes that can be copied into a JSON string unchanged, one at a time.
constexpr bool is_plain_ascii(unsigned char c) noexcept {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

void append_control(std::string& out, unsigned char c) {
  switch (c) {
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      break;
  }
  const char escape[6] = {'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xF]};
  out.append(escape, sizeof escape);
}

template <typename T>
void append_chars(std::string& out, T value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

}  // namespace

void append_escaped(std::string& out, std::string_view value) {
  std::size_t i = 0;
  const std::size_t size = value.size();
  while (i < size) {
    // Most text is plain ASCII: copy it in runs rather than byte by byte.
    std::size_t run = i;
    while (run < size && is_plain_ascii(static_cast<unsigned char>(value[run]))) ++run;
    if (run > i) {
      out.append(value.data() + i, run - i);
      i = run;
      if (i == size) break;
    }
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20) {
      append_control(out, c);
      ++i;
    } else {
      const int length = utf8_sequence(value.substr(i));
      if (length > 0) {
        out.append(value.data() + i, static_cast<std::size_t>(length));
        i += static_cast<std::size_t>(length);
      } else {
        out += kReplacementCharacter;
        i += static_cast<std::size_t>(-length);
      }
    }
  }
}

void JsonWriter::separator() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ == 0) return;
  if (depth_ > kTrackedDepth) {
    // Deeper than the bitset: the buffer itself tells whether this container is still empty.
    const char last = out_.back();
    if (last != '{' && last != '[') out_ += ',';
    return;
  }
  const std::uint64_t bit = std::uint64_t{1} << (depth_ - 1);
  if (has_element_ & bit) out_ += ',';
  has_element_ |= bit;
}

void JsonWriter::begin_object() {
  separator();
  out_ += '{';
  ++depth_;
  if (depth_ <= kTrackedDepth) has_element_ &= ~(std::uint64_t{1} << (depth_ - 1));
}

void JsonWriter::end_object() {
  out_ += '}';
  --depth_;
}

void JsonWriter::begin_array() {
  separator();
  out_ += '[';
  ++depth_;
  if (depth_ <= kTrackedDepth) has_element_ &= ~(std::uint64_t{1} << (depth_ - 1));
}

void JsonWriter::end_array() {
  out_ += ']';
  --depth_;
}

void JsonWriter::key(std::string_view key) {
  separator();
  out_ += '"';
  append_escaped(out_, key);
  out_ += "\":";
  after_key_ = true;
}

void JsonWriter::string(std::string_view value) {
  separator();
  out_ += '"';
  append_escaped(out_, value);
  out_ += '"';
}

void JsonWriter::integer(std::int64_t value) {
  separator();
  append_chars(out_, value);
}

void JsonWriter::unsigned_integer(std::uint64_t value) {
  separator();
  append_chars(out_, value);
}

void JsonWriter::number(double value) {
  separator();
  if (!std::isfinite(value)) {
    out_ += "null";
    return;
  }
  // Shortest round-trip form; it is always valid JSON ("0.1", "-0", "1e+20", "1.5e-07").
  append_chars(out_, value);
}

void JsonWriter::boolean(bool value) {
  separator();
  out_ += value ? "true" : "false";
}

void JsonWriter::null() {
  separator();
  out_ += "null";
}

void JsonWriter::epoch_seconds(std::int64_t epoch_us) {
  separator();
  // Unsigned magnitude so that the most negative value does not overflow on negation.
  std::uint64_t magnitude = static_cast<std::uint64_t>(epoch_us);
  if (epoch_us < 0) {
    out_ += '-';
    magnitude = 0 - magnitude;
  }
  append_chars(out_, magnitude / 1000000);
  std::uint64_t fraction = magnitude % 1000000;
  char digits[7] = {'.'};
  for (int i = 6; i >= 1; --i) {
    digits[i] = static_cast<char>('0' + fraction % 10);
    fraction /= 10;
  }
  out_.append(digits, sizeof digits);
}

void JsonWriter::id(std::uint64_t id) {
  separator();
  out_ += '"';
  append_id(out_, id);
  out_ += '"';
}

void JsonWriter::json(const nlohmann::json& value) {
  separator();
  if (value.is_discarded()) {
    // nlohmann prints a discarded value as "<discarded>", which is not JSON.
    out_ += "null";
    return;
  }
  out_ += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace xray::detail
