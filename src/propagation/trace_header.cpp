#include "xray/trace_header.hpp"

#include <cstddef>

#include "base/ascii.hpp"

namespace xray {
namespace {

constexpr std::string_view kRootKey = "Root";
constexpr std::string_view kParentKey = "Parent";
constexpr std::string_view kSampledKey = "Sampled";
constexpr std::string_view kSelfKey = "Self";
constexpr std::string_view kLineageKey = "Lineage";

// Only spaces and tabs are trimmed (spec §4.2): other bytes are part of the value and are kept
// verbatim, so what arrives is what is propagated.
using detail::iequals;
using detail::trim;

using detail::is_hex;
using detail::is_lower_hex;

// Keys with their own slot in TraceHeader; they never go to the extras.
bool is_reserved_key(std::string_view key) noexcept {
  return iequals(key, kRootKey) || iequals(key, kParentKey) || iequals(key, kSampledKey) ||
         iequals(key, kSelfKey);
}

// What add_extra accepts from a caller: exactly what parse could have produced, so that
// parse(to_string(h)) == h holds, and no CR/LF/NUL, so that a propagated header cannot be used to
// inject another header line.
bool splits_header(std::string_view text) noexcept {
  // A loop, not find_first_of: libstdc++'s find_first_of calls memchr once per byte of `text`.
  bool found = false;
  for (const char c : text) found |= c == '\r' || c == '\n' || c == '\0';
  return found;
}

bool is_well_formed_extra(std::string_view key, std::string_view value) noexcept {
  if (key.empty() || value.empty()) return false;
  if (trim(key).size() != key.size() || trim(value).size() != value.size()) return false;
  if (key.find_first_of(";=") != std::string_view::npos) return false;
  if (value.find(';') != std::string_view::npos) return false;
  return !splits_header(key) && !splits_header(value);
}

// 1 for every byte that is not a lowercase hex digit.
struct NotLowerHexTable {
  unsigned char flag[256] = {};
  constexpr NotLowerHexTable() {
    for (unsigned c = 0; c < 256; ++c) flag[c] = is_lower_hex(static_cast<char>(c)) ? 0 : 1;
  }
};
constexpr NotLowerHexTable kNotLowerHex;

}  // namespace

TraceHeader TraceHeader::parse(std::string_view value) noexcept {
  TraceHeader header;
  // "First occurrence wins" for Sampled must also hold when the first value is unrecognised
  // (Sampled=x;Sampled=1 stays unknown), so its presence is tracked apart from its value.
  bool seen_sampled = false;
  bool seen_lineage = false;

  while (!value.empty()) {
    const std::size_t semi = value.find(';');
    std::string_view part = value.substr(0, semi);
    value = semi == std::string_view::npos ? std::string_view() : value.substr(semi + 1);

    part = trim(part);
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = trim(part.substr(0, eq));
    const std::string_view val = trim(part.substr(eq + 1));
    if (key.empty() || val.empty()) continue;
    // A pair carrying CR, LF or NUL is dropped whole: propagated, it could split the outbound
    // request into two header lines (or end a C string early).
    if (splits_header(part)) continue;

    if (iequals(key, kRootKey)) {
      if (header.root_.empty()) header.root_.assign(val);
    } else if (iequals(key, kParentKey)) {
      if (header.parent_.empty()) header.parent_.assign(val);
    } else if (iequals(key, kSampledKey)) {
      if (seen_sampled) continue;
      seen_sampled = true;
      if (val == "1") {
        header.sampled_ = Sampled::kYes;
      } else if (val == "0") {
        header.sampled_ = Sampled::kNo;
      } else if (val == "?") {
        header.sampled_ = Sampled::kRequested;
      }
    } else if (iequals(key, kSelfKey)) {
      // Added by load balancers for their own hop; meaningless downstream (spec §4.1).
      continue;
    } else if (iequals(key, kLineageKey)) {
      if (seen_lineage) continue;
      seen_lineage = true;
      // Exempt from the budget: dropping it would disable Lambda's recursive-loop detection.
      header.extras_.emplace_back(std::string(kLineageKey), std::string(val));
    } else {
      const std::size_t bytes = key.size() + val.size();
      // Drop just this pair: a later, smaller one may still fit (spec §4.2 step 4).
      if (bytes > kExtrasBudgetBytes - header.extras_bytes_) continue;
      header.extras_.emplace_back(std::string(key), std::string(val));
      header.extras_bytes_ += bytes;
    }
  }
  header.root_valid_ = is_valid_root(header.root_);
  return header;
}

std::string TraceHeader::to_string() const noexcept {
  std::string out;
  // Each field is preceded by ';' except the first written, so there is never a leading or
  // trailing separator whatever subset is set (spec §4.4: Go's trailing ';' is a known bug).
  const auto append = [&out](std::string_view key, std::string_view value) {
    // parse and add_extra never keep CR, LF or NUL; set_root/set_parent may have been given them.
    // Such a field is left out rather than let the header split a request.
    if (splits_header(value)) return;
    if (!out.empty()) out += ';';
    out.append(key);
    out += '=';
    out.append(value);
  };
  if (!root_.empty()) append(kRootKey, root_);
  if (!parent_.empty()) append(kParentKey, parent_);
  switch (sampled_) {
    case Sampled::kYes:
      append(kSampledKey, "1");
      break;
    case Sampled::kNo:
      append(kSampledKey, "0");
      break;
    case Sampled::kRequested:
      append(kSampledKey, "?");
      break;
    case Sampled::kUnknown:
      break;
  }
  for (const auto& [key, value] : extras_) append(key, value);
  return out;
}

bool TraceHeader::empty() const noexcept {
  return root_.empty() && parent_.empty() && sampled_ == Sampled::kUnknown && extras_.empty();
}

bool TraceHeader::add_extra(std::string key, std::string value) noexcept {
  if (!is_well_formed_extra(key, value) || is_reserved_key(key)) return false;
  // clear_extras() (inline in the header) empties extras_ but not the byte count; an empty list
  // always means an unused budget, so resynchronise here rather than refuse pairs that fit.
  if (extras_.empty()) extras_bytes_ = 0;
  if (iequals(key, kLineageKey)) {
    // One Lineage per header, as parse keeps only the first.
    for (const auto& extra : extras_) {
      if (extra.first == kLineageKey) return false;
    }
    extras_.emplace_back(std::string(kLineageKey), std::move(value));
    return true;
  }
  const std::size_t bytes = key.size() + value.size();
  if (bytes > kExtrasBudgetBytes - extras_bytes_) return false;
  extras_.emplace_back(std::move(key), std::move(value));
  extras_bytes_ += bytes;
  return true;
}

bool TraceHeader::is_valid_root(std::string_view root) noexcept {
  constexpr std::size_t kRootLength = 35;
  if (root.size() != kRootLength || root[0] != '1' || root[1] != '-' || root[10] != '-') {
    return false;
  }
  // Checked on every incoming request: one table load per digit, the two runs without a branch
  // per character.
  unsigned bad = 0;
  for (std::size_t i = 2; i < 10; ++i) bad |= kNotLowerHex.flag[static_cast<unsigned char>(root[i])];
  for (std::size_t i = 11; i < kRootLength; ++i) {
    bad |= kNotLowerHex.flag[static_cast<unsigned char>(root[i])];
  }
  return bad == 0;
}

bool TraceHeader::is_valid_parent(std::string_view parent) noexcept {
  constexpr std::size_t kParentLength = 16;
  if (parent.size() != kParentLength) return false;
  for (const char c : parent) {
    if (!is_hex(c)) return false;
  }
  return true;
}

}  // namespace xray
