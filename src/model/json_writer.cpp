#include "model/json_writer.hpp"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "model/utf8.hpp"

namespace xray::detail {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr int kTrackedDepth = 64;                          // bits in has_element_

// Bytes that can be copied into a JSON string unchanged, one at a time.
constexpr bool is_plain_ascii(unsigned char c) noexcept {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

// Whether any of the 8 bytes in `word` is not plain ASCII (a control character, '"', '\\' or a
// byte >= 0x80). Bit tricks on 8 bytes at once: documents are mostly plain text, and scanning it a
// word at a time is most of what makes strings cheap. Each test is exact as a yes/no answer (the
// "less than" test only for words without high bytes, which the last term catches anyway).
constexpr bool has_special_byte(std::uint64_t word) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  const std::uint64_t quote = word ^ (kOnes * '"');
  const std::uint64_t backslash = word ^ (kOnes * '\\');
  const std::uint64_t special = ((word - kOnes * 0x20) & ~word) | ((quote - kOnes) & ~quote) |
                                ((backslash - kOnes) & ~backslash) | word;
  return (special & kHighs) != 0;
}

// is_plain_ascii for every byte value, for the bytes after the last whole word.
struct PlainTable {
  bool plain[256] = {};
  constexpr PlainTable() {
    for (int c = 0; c < 256; ++c) plain[c] = is_plain_ascii(static_cast<unsigned char>(c));
  }
};
constexpr PlainTable kPlain;

// Length of the plain-ASCII prefix of [data, data + size).
std::size_t plain_prefix(const char* data, std::size_t size) noexcept {
  std::size_t i = 0;
  while (size - i >= 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, sizeof word);
    if (has_special_byte(word)) break;
    i += 8;
  }
  while (i < size && kPlain.plain[static_cast<unsigned char>(data[i])]) ++i;
  return i;
}

// "00".."99", for writing two decimal digits at a time.
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// Writes the decimal digits of `value` to end at `end`; returns where they begin.
char* write_decimal_backwards(char* end, std::uint64_t value) noexcept {
  while (value >= 100) {
    const auto pair = static_cast<unsigned>(value % 100);
    value /= 100;
    end -= 2;
    end[0] = kDigitPairs[2 * pair];
    end[1] = kDigitPairs[2 * pair + 1];
  }
  if (value >= 10) {
    end -= 2;
    end[0] = kDigitPairs[2 * value];
    end[1] = kDigitPairs[2 * value + 1];
  } else {
    *--end = static_cast<char>('0' + value);
  }
  return end;
}

// What a byte that is not plain ASCII becomes inside a JSON string, for the single-byte cases:
// the escape's length (0: a UTF-8 lead or continuation byte, handled by the caller).
std::size_t escape_byte(unsigned char c, char (&out)[6]) noexcept {
  out[0] = '\\';
  switch (c) {
    case '"':
    case '\\':
      out[1] = static_cast<char>(c);
      return 2;
    case '\b':
      out[1] = 'b';
      return 2;
    case '\f':
      out[1] = 'f';
      return 2;
    case '\n':
      out[1] = 'n';
      return 2;
    case '\r':
      out[1] = 'r';
      return 2;
    case '\t':
      out[1] = 't';
      return 2;
    default:
      break;
  }
  if (c >= 0x20) return 0;
  out[1] = 'u';
  out[2] = '0';
  out[3] = '0';
  out[4] = kHexDigits[c >> 4];
  out[5] = kHexDigits[c & 0xF];
  return 6;
}

}  // namespace

// Escapes `value` a run at a time: `emit(data, size)` receives plain runs and escapes in order.
template <typename Emit>
void escape(std::string_view value, Emit&& emit) {
  std::size_t i = 0;
  const std::size_t size = value.size();
  while (i < size) {
    // Most text is plain ASCII: copy it in runs rather than byte by byte.
    const std::size_t run = plain_prefix(value.data() + i, size - i);
    if (run > 0) {
      emit(value.data() + i, run);
      i += run;
      if (i == size) break;
    }
    const auto c = static_cast<unsigned char>(value[i]);
    char escaped[6];
    if (const std::size_t length = escape_byte(c, escaped); length > 0) {
      emit(escaped, length);
      ++i;
      continue;
    }
    const int length = utf8_sequence(value.substr(i));
    if (length > 0) {
      emit(value.data() + i, static_cast<std::size_t>(length));
      i += static_cast<std::size_t>(length);
    } else {
      emit(kReplacementCharacter.data(), kReplacementCharacter.size());
      i += static_cast<std::size_t>(-length);
    }
  }
}

void append_escaped(std::string& out, std::string_view value) {
  escape(value, [&out](const char* data, std::size_t size) { out.append(data, size); });
}

void JsonWriter::put_escaped(std::string_view value) {
  escape(value, [this](const char* data, std::size_t size) { put(data, size); });
}

char JsonWriter::last() const {
  if (used_ > 0) return stage_[used_ - 1];
  return out_.empty() ? '\0' : out_.back();
}

bool JsonWriter::needs_comma() {
  if (after_key_) {
    after_key_ = false;
    return false;
  }
  if (depth_ == 0) return false;
  if (depth_ > kTrackedDepth) {
    // Deeper than the bitset: the output itself tells whether this container is still empty.
    const char previous = last();
    return previous != '{' && previous != '[';
  }
  const std::uint64_t bit = std::uint64_t{1} << (depth_ - 1);
  const bool comma = (has_element_ & bit) != 0;
  has_element_ |= bit;
  return comma;
}

void JsonWriter::begin_object() {
  separator();
  put('{');
  ++depth_;
  if (depth_ <= kTrackedDepth) has_element_ &= ~(std::uint64_t{1} << (depth_ - 1));
  done();
}

void JsonWriter::end_object() {
  put('}');
  --depth_;
  done();
}

void JsonWriter::begin_array() {
  separator();
  put('[');
  ++depth_;
  if (depth_ <= kTrackedDepth) has_element_ &= ~(std::uint64_t{1} << (depth_ - 1));
  done();
}

void JsonWriter::end_array() {
  put(']');
  --depth_;
  done();
}

void JsonWriter::key(std::string_view key) {
  separator();
  after_key_ = true;
  put('"');
  put_escaped(key);
  put("\":", 2);
  done();
}

void JsonWriter::string(std::string_view value) {
  separator();
  put('"');
  put_escaped(value);
  put('"');
  done();
}

void JsonWriter::integer(std::int64_t value) {
  separator();
  char text[24];
  const auto result = std::to_chars(text, text + sizeof text, value);
  put(text, static_cast<std::size_t>(result.ptr - text));
  done();
}

void JsonWriter::unsigned_integer(std::uint64_t value) {
  separator();
  char text[24];
  char* end = text + sizeof text;
  char* begin = write_decimal_backwards(end, value);
  put(begin, static_cast<std::size_t>(end - begin));
  done();
}

void JsonWriter::number(double value) {
  separator();
  if (!std::isfinite(value)) {
    put("null", 4);
  } else {
    // Shortest round-trip form; it is always valid JSON ("0.1", "-0", "1e+20", "1.5e-07").
    char text[32];
    const auto result = std::to_chars(text, text + sizeof text, value);
    put(text, static_cast<std::size_t>(result.ptr - text));
  }
  done();
}

void JsonWriter::boolean(bool value) {
  separator();
  if (value) {
    put("true", 4);
  } else {
    put("false", 5);
  }
  done();
}

void JsonWriter::null() {
  separator();
  put("null", 4);
  done();
}

void JsonWriter::epoch_seconds(std::int64_t epoch_us) {
  separator();
  // Built right to left in one small buffer: two of these go into every entity.
  char text[32];
  char* end = text + sizeof text;
  // Unsigned magnitude so that the most negative value does not overflow on negation.
  std::uint64_t magnitude = static_cast<std::uint64_t>(epoch_us);
  if (epoch_us < 0) magnitude = 0 - magnitude;
  auto fraction = static_cast<unsigned>(magnitude % 1000000);
  char* p = end;
  for (int i = 0; i < 3; ++i) {
    const unsigned pair = fraction % 100;
    fraction /= 100;
    p -= 2;
    p[0] = kDigitPairs[2 * pair];
    p[1] = kDigitPairs[2 * pair + 1];
  }
  *--p = '.';
  p = write_decimal_backwards(p, magnitude / 1000000);
  if (epoch_us < 0) *--p = '-';
  put(p, static_cast<std::size_t>(end - p));
  done();
}

void JsonWriter::id(std::uint64_t id) {
  separator();
  char text[18];
  text[0] = '"';
  for (int i = 16; i >= 1; --i) {
    text[i] = kHexDigits[id & 0xF];
    id >>= 4;
  }
  text[17] = '"';
  put(text, sizeof text);
  done();
}

void JsonWriter::json(const nlohmann::json& value) {
  separator();
  if (value.is_discarded()) {
    // nlohmann prints a discarded value as "<discarded>", which is not JSON.
    put("null", 4);
  } else {
    flush();
    out_ += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  done();
}

}  // namespace xray::detail
