#include "sampling/wildcard_pattern.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace xray::detail {
namespace {

using wildcard_internal::load64;
using wildcard_internal::load_short;

bool is_continuation_byte(char c) noexcept {
  const auto byte = static_cast<unsigned char>(c);
  return byte >= 0x80 && byte <= 0xBF;
}

// `bytes` folded (A-Z to a-z) when case-insensitive, then a mask of 0x20 at each letter.
std::string fold_with_mask(std::string_view bytes, bool case_insensitive) {
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    char c = bytes[i];
    if (case_insensitive && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out[i] = c;
    if (case_insensitive && c >= 'a' && c <= 'z') out[bytes.size() + i] = 0x20;
  }
  return out;
}

}  // namespace

ShortLiteral::ShortLiteral(std::string_view bytes, bool case_insensitive) noexcept
    : size_(static_cast<std::uint32_t>(bytes.size() < kMaxSize ? bytes.size() : kMaxSize)) {
  char folded[kMaxSize];
  char mask[kMaxSize];
  for (std::size_t i = 0; i < size_; ++i) {
    char c = bytes[i];
    if (case_insensitive && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    folded[i] = c;
    mask[i] = case_insensitive && c >= 'a' && c <= 'z' ? 0x20 : 0;
  }
  if (size_ <= 8) {
    word_[0] = load_short(folded, size_);
    mask_[0] = load_short(mask, size_);
  } else {
    word_[0] = load64(folded);
    word_[1] = load64(folded + size_ - 8);
    mask_[0] = load64(mask);
    mask_[1] = load64(mask + size_ - 8);
  }
}

FoldedLiteral::FoldedLiteral(std::string_view bytes, bool case_insensitive)
    : size_(bytes.size()), case_insensitive_(case_insensitive) {
  folded_ = fold_with_mask(bytes, case_insensitive);
  if (size_ <= ShortLiteral::kMaxSize) short_ = ShortLiteral(bytes, case_insensitive);
}

bool FoldedLiteral::equals_long(const char* text) const noexcept {
  const char* folded = folded_.data();
  const char* mask = folded + size_;
  for (std::size_t i = 0; i + 8 < size_; i += 8) {
    if (((load64(text + i) | load64(mask + i)) ^ load64(folded + i)) != 0) return false;
  }
  const std::size_t last = size_ - 8;
  return ((load64(text + last) | load64(mask + last)) ^ load64(folded + last)) == 0;
}

ShortLiteral FoldedLiteral::first_bytes(bool from_end) const {
  // Folding again is harmless: folded bytes fold to themselves.
  const std::size_t n = size_ < ShortLiteral::kMaxSize ? size_ : ShortLiteral::kMaxSize;
  return ShortLiteral(std::string_view(folded_).substr(from_end ? size_ - n : 0, n),
                      case_insensitive_);
}

WildcardPattern::WildcardPattern(std::string pattern, bool case_insensitive)
    : case_insensitive_(case_insensitive), pattern_(std::move(pattern)) {
  const std::string_view text = pattern_;
  const std::size_t first_star = text.find('*');
  std::string_view head = text.substr(0, first_star);
  std::string_view tail;
  bool star = first_star != std::string_view::npos;
  if (star) {
    const std::size_t last_star = text.rfind('*');
    // Anything but `*` between the first and the last star: several anchors, the general matcher.
    if (text.substr(first_star, last_star - first_star).find_first_not_of('*') !=
        std::string_view::npos) {
      kind_ = Kind::kGeneral;
      return;
    }
    tail = text.substr(last_star + 1);
    if (!tail.empty() && (tail.find('?') != std::string_view::npos ||
                          is_continuation_byte(tail.front()))) {
      kind_ = Kind::kGeneral;
      return;
    }
  }
  if (!star) {
    kind_ = Kind::kLiteral;
  } else if (tail.empty()) {
    kind_ = head.empty() ? Kind::kAny : Kind::kPrefix;
  } else {
    kind_ = head.empty() ? Kind::kSuffix : Kind::kPrefixSuffix;
  }
  tail_ = FoldedLiteral(tail, case_insensitive);
  plain_head_ = head.find('?') == std::string_view::npos;
  if (plain_head_) {
    head_ = FoldedLiteral(head, case_insensitive);
    return;
  }
  while (!head.empty()) {
    Piece piece;
    if (head.front() == '?') {
      piece.one_character = true;
      head.remove_prefix(1);
    } else {
      const std::size_t run = std::min(head.find('?'), head.size());
      piece.literal = FoldedLiteral(head.substr(0, run), case_insensitive);
      head.remove_prefix(run);
    }
    head_pieces_.push_back(std::move(piece));
  }
}

bool WildcardPattern::matches_with_questions(std::string_view text) const noexcept {
  // The head as the general matcher walks it before its first `*`: a literal run byte-wise, `?`
  // one character; running out of text or a mismatch fails, with no `*` to go back to.
  std::size_t t = 0;
  for (const Piece& piece : head_pieces_) {
    if (piece.one_character) {
      if (t >= text.size()) return false;
      t += wildcard_character_length(text, t);
    } else {
      if (text.size() - t < piece.literal.size() || !piece.literal.equals(text.data() + t)) {
        return false;
      }
      t += piece.literal.size();
    }
  }
  switch (kind_) {
    case Kind::kLiteral:
      return t == text.size();
    case Kind::kPrefix:
      return true;
    default:  // kPrefixSuffix: the tail starts on a character boundary at or after t
      return text.size() - t >= tail_.size() &&
             tail_.equals(text.data() + (text.size() - tail_.size()));
  }
}

WildcardPattern::Filter WildcardPattern::filter() const {
  Filter filter;
  if (!plain_head_ || kind_ == Kind::kGeneral || kind_ == Kind::kAny) {
    filter.exact = kind_ == Kind::kAny;
    return filter;
  }
  switch (kind_) {
    case Kind::kLiteral:
      filter.min_size = filter.max_size = head_.size();
      filter.literal = head_.first_bytes(false);
      break;
    case Kind::kPrefix:
      filter.min_size = head_.size();
      filter.literal = head_.first_bytes(false);
      break;
    case Kind::kSuffix:
      filter.min_size = tail_.size();
      filter.from_end = true;
      filter.literal = tail_.first_bytes(true);
      break;
    default:  // kPrefixSuffix
      filter.min_size = head_.size() + tail_.size();
      filter.literal = head_.first_bytes(false);
      break;
  }
  filter.exact = kind_ != Kind::kPrefixSuffix && filter.literal.size() == filter.min_size;
  return filter;
}

int WildcardPattern::cost() const noexcept {
  switch (kind_) {
    case Kind::kAny:
      return 0;
    case Kind::kLiteral:
      return plain_head_ ? 1 : 3;
    case Kind::kPrefix:
    case Kind::kSuffix:
      return plain_head_ ? 2 : 3;
    case Kind::kPrefixSuffix:
      return 3;
    case Kind::kGeneral:
      break;
  }
  return 4;
}

const char* to_string(WildcardPattern::Kind kind) noexcept {
  switch (kind) {
    case WildcardPattern::Kind::kAny:
      return "any";
    case WildcardPattern::Kind::kLiteral:
      return "literal";
    case WildcardPattern::Kind::kPrefix:
      return "prefix";
    case WildcardPattern::Kind::kSuffix:
      return "suffix";
    case WildcardPattern::Kind::kPrefixSuffix:
      return "prefix-suffix";
    case WildcardPattern::Kind::kGeneral:
      break;
  }
  return "general";
}

}  // namespace xray::detail
