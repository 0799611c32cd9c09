// Internal: a wildcard pattern (spec §7.3) compiled once, when rules load, into the cheapest
// matcher that gives exactly the answers of xray::wildcard_match for every text.
//
//   WildcardPattern host("*.example.com");          // Kind::kSuffix
//   host.matches("shop.EXAMPLE.com");               // true, as wildcard_match would say
//
// Kinds, chosen from the pattern's shape (a run of `*` counts as one):
//   kAny           `*`                 every text
//   kLiteral       `GET`, `f?o`        the whole text, `?` one character
//   kPrefix        `/api/*`, `/v?/*`   the head, then anything
//   kSuffix        `*.example.com`     anything, then the tail
//   kPrefixSuffix  `/api/*/orders`     the head, anything, the tail
//   kGeneral       everything else     the backtracking matcher itself
// A tail holds no `?` and does not start with a UTF-8 continuation byte (0x80-0xBF): then a tail
// found at the end of the text always starts on a character boundary, where `*` can stop, and a
// byte-wise comparison from the end is exact. Other tails go to kGeneral.
//
// Literal runs are compared 8 bytes at a time against the pattern folded at compile time: a text
// byte matches a folded letter when `byte | 0x20` equals it (only the two ASCII cases do), any
// other pattern byte only itself. Nothing allocates or locks after construction.
//
// Thread safety: immutable after construction; `matches` is safe from any number of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace xray::detail {

// wildcard_match without its fast paths for `*` and literals: the greedy two-pointer matcher with
// backtracking to the last `*`, exactly as wildcard_match decides (src/sampling/wildcard.cpp).
bool wildcard_match_general(std::string_view pattern, std::string_view text,
                            bool case_insensitive) noexcept;

// Bytes of the character at text[i] as `?` and `*` count them (spec §7.3): a well-formed UTF-8
// sequence, else one byte. `i` < text.size().
std::size_t wildcard_character_length(std::string_view text, std::size_t i) noexcept;

namespace wildcard_internal {

inline std::uint64_t load64(const char* p) noexcept {
  std::uint64_t value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

inline std::uint64_t load32(const char* p) noexcept {
  std::uint32_t value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

// The `n` <= 8 bytes at `p` as one word, reading only those bytes: two overlapping 4-byte loads
// from 4 bytes on, else bytes 0, n/2 and n-1 (which cover every byte for n <= 3). Injective for a
// given n, and a literal is loaded in the same shape, so equal words mean equal bytes.
inline std::uint64_t load_short(const char* p, std::size_t n) noexcept {
  if (n >= 4) return load32(p) | (load32(p + n - 4) << 32);
  if (n == 0) return 0;
  return static_cast<std::uint64_t>(static_cast<unsigned char>(p[0])) |
         (static_cast<std::uint64_t>(static_cast<unsigned char>(p[n >> 1])) << 8) |
         (static_cast<std::uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16);
}

}  // namespace wildcard_internal

// Up to 16 pattern bytes without wildcards, folded once, compared in one or two words.
// Thread safety: immutable after construction.
class ShortLiteral {
 public:
  static constexpr std::size_t kMaxSize = 16;

  ShortLiteral() = default;
  // `bytes` holds at most kMaxSize bytes.
  ShortLiteral(std::string_view bytes, bool case_insensitive) noexcept;

  std::size_t size() const noexcept { return size_; }
  // Whether the size() bytes at `text` (which must all be readable) equal the literal, with ASCII
  // case folding when built case-insensitive. Always true for size 0.
  bool equals(const char* text) const noexcept {
    using namespace wildcard_internal;
    if (size_ <= 8) return ((load_short(text, size_) | mask_[0]) ^ word_[0]) == 0;
    const std::uint64_t first = (load64(text) | mask_[0]) ^ word_[0];
    const std::uint64_t last = (load64(text + size_ - 8) | mask_[1]) ^ word_[1];
    return (first | last) == 0;
  }

 private:
  std::uint32_t size_ = 0;
  // The folded pattern and the 0x20 mask of its letters, in the shape that equals() loads the
  // text in (one short word up to 8 bytes, two overlapping words up to 16).
  std::uint64_t word_[2] = {0, 0};
  std::uint64_t mask_[2] = {0, 0};
};

// A run of pattern bytes without wildcards, of any length, folded once, compared a word at a time.
// Thread safety: immutable after construction.
class FoldedLiteral {
 public:
  FoldedLiteral() = default;
  FoldedLiteral(std::string_view bytes, bool case_insensitive);

  std::size_t size() const noexcept { return size_; }
  // Whether the size() bytes at `text` (which must all be readable) equal the literal, with ASCII
  // case folding when built case-insensitive.
  bool equals(const char* text) const noexcept {
    return size_ <= ShortLiteral::kMaxSize ? short_.equals(text) : equals_long(text);
  }
  // The first (or, with from_end, the last) min(size(), 16) bytes, for a quick filter.
  ShortLiteral first_bytes(bool from_end) const;

 private:
  bool equals_long(const char* text) const noexcept;

  std::size_t size_ = 0;
  ShortLiteral short_;   // size_ <= 16
  std::string folded_;   // the folded bytes, then the mask bytes (always, for first_bytes)
  bool case_insensitive_ = true;
};

// Thread safety: immutable after construction.
class WildcardPattern {
 public:
  enum class Kind : std::uint8_t { kAny, kLiteral, kPrefix, kSuffix, kPrefixSuffix, kGeneral };

  explicit WildcardPattern(std::string pattern = "*", bool case_insensitive = true);

  // Same answer as wildcard_match(pattern(), text, case_insensitive).
  bool matches(std::string_view text) const noexcept {
    switch (kind_) {
      case Kind::kAny:
        return true;
      case Kind::kLiteral:
        if (plain_head_) return text.size() == head_.size() && head_.equals(text.data());
        break;
      case Kind::kPrefix:
        if (plain_head_) return text.size() >= head_.size() && head_.equals(text.data());
        break;
      case Kind::kSuffix:
        return text.size() >= tail_.size() &&
               tail_.equals(text.data() + (text.size() - tail_.size()));
      case Kind::kPrefixSuffix:
        if (plain_head_) {
          return text.size() >= head_.size() + tail_.size() && head_.equals(text.data()) &&
                 tail_.equals(text.data() + (text.size() - tail_.size()));
        }
        break;
      case Kind::kGeneral:
        return wildcard_match_general(pattern_, text, case_insensitive_);
    }
    return matches_with_questions(text);
  }

  Kind kind() const noexcept { return kind_; }
  const std::string& pattern() const noexcept { return pattern_; }

  // A necessary condition on a text for matches(), cheap to test inline in a loop over rules: its
  // size is within [min_size, max_size] and `literal` equals its first (or, with from_end, last)
  // literal.size() bytes. `exact`: the condition is also sufficient.
  struct Filter {
    std::size_t min_size = 0;
    std::size_t max_size = static_cast<std::size_t>(-1);
    bool from_end = false;
    bool exact = false;
    ShortLiteral literal;

    bool passes(std::string_view text) const noexcept {
      if (text.size() < min_size || text.size() > max_size) return false;
      return literal.equals(from_end ? text.data() + (text.size() - literal.size()) : text.data());
    }
  };
  Filter filter() const;
  // Relative cost of matches(), for ordering checks: 0 for kAny, up to 4 for kGeneral.
  int cost() const noexcept;

 private:
  // A head of literal runs and `?`s (kLiteral, kPrefix, kPrefixSuffix with a `?` in the head).
  struct Piece {
    bool one_character = false;  // `?`
    FoldedLiteral literal;       // otherwise
  };
  bool matches_with_questions(std::string_view text) const noexcept;

  Kind kind_ = Kind::kAny;
  bool plain_head_ = true;  // the head has no `?`: head_ holds it
  bool case_insensitive_ = true;
  FoldedLiteral head_;
  std::vector<Piece> head_pieces_;  // when !plain_head_
  FoldedLiteral tail_;
  std::string pattern_;
};

const char* to_string(WildcardPattern::Kind kind) noexcept;

}  // namespace xray::detail
