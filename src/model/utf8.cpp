#include "model/utf8.hpp"

namespace xray::detail {
namespace {

constexpr bool is_continuation(unsigned char c) noexcept { return (c & 0xC0) == 0x80; }

}  // namespace

int utf8_sequence(std::string_view s) noexcept {
  const auto lead = static_cast<unsigned char>(s[0]);
  int length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return -1;
  }
  const auto available = static_cast<int>(s.size());
  if (available < 2) return -1;
  const auto second = static_cast<unsigned char>(s[1]);
  if (second < low || second > high) return -1;
  for (int i = 2; i < length; ++i) {
    if (i >= available || !is_continuation(static_cast<unsigned char>(s[i]))) return -i;
  }
  return length;
}

}  // namespace xray::detail
