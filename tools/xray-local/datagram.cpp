#include "datagram.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace xray::local {
namespace {

// Top-level fields of segment and subsegment documents (wire spec §2).
constexpr std::array<std::string_view, 25> kKnownFields = {
    "name",      "id",          "trace_id",   "parent_id",  "type",        "start_time",
    "end_time",  "in_progress", "service",    "user",       "origin",      "http",
    "aws",       "error",       "throttle",   "fault",      "cause",       "annotations",
    "metadata",  "subsegments", "namespace",  "precursor_ids", "sql",      "resource_arn",
    "inferred"};

// Deepest bracket nesting of a JSON text, strings skipped; stops counting past `limit`.
int nesting_depth(std::string_view text, int limit) noexcept {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

bool header_ok(std::string_view line) {
  const nlohmann::json header = nlohmann::json::parse(line, nullptr, false);
  if (!header.is_object()) return false;
  const auto format = header.find("format");
  const auto version = header.find("version");
  if (format == header.end() || !format->is_string() || version == header.end() ||
      !version->is_number() || *version != 1) {
    return false;
  }
  std::string lowered = format->get<std::string>();
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lowered == "json";
}

bool non_empty_string(const nlohmann::json& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_string() && !found->get_ref<const std::string&>().empty();
}

}  // namespace

std::string_view to_string(DatagramProblem problem) noexcept {
  switch (problem) {
    case DatagramProblem::kNone: return "none";
    case DatagramProblem::kTruncated: return "truncated";
    case DatagramProblem::kMissingBody: return "missing_header_or_body";
    case DatagramProblem::kInvalidHeader: return "invalid_header";
    case DatagramProblem::kInvalidJson: return "invalid_json";
    case DatagramProblem::kNotAnObject: return "not_an_object";
    case DatagramProblem::kTooDeep: return "too_deep";
    case DatagramProblem::kNotADocument: return "not_a_document";
  }
  return "unknown";
}

Datagram parse_datagram(std::string_view bytes) noexcept {
  Datagram out;
  try {
    const auto newline = bytes.find('\n');
    if (newline == std::string_view::npos || newline + 1 == bytes.size()) {
      out.problem = DatagramProblem::kMissingBody;
      return out;
    }
    if (!header_ok(bytes.substr(0, newline))) {
      out.problem = DatagramProblem::kInvalidHeader;
      return out;
    }
    const std::string_view body = bytes.substr(newline + 1);
    if (nesting_depth(body, kMaxDepth) > kMaxDepth) {
      out.problem = DatagramProblem::kTooDeep;
      return out;
    }
    nlohmann::json document = nlohmann::json::parse(body, nullptr, false);
    if (document.is_discarded()) {
      out.problem = DatagramProblem::kInvalidJson;
      return out;
    }
    if (!document.is_object()) {
      out.problem = DatagramProblem::kNotAnObject;
      return out;
    }
    if (!non_empty_string(document, "name") || !non_empty_string(document, "id") ||
        !non_empty_string(document, "trace_id")) {
      out.problem = DatagramProblem::kNotADocument;
      return out;
    }
    for (const auto& item : document.items()) {
      if (std::find(kKnownFields.begin(), kKnownFields.end(), item.key()) == kKnownFields.end()) {
        out.unknown_fields.push_back(item.key());
      }
    }
    out.document = std::move(document);
  } catch (const std::exception&) {  // allocation failure: refuse the datagram, keep serving
    out = Datagram{};
    out.problem = DatagramProblem::kInvalidJson;
  }
  return out;
}

}  // namespace xray::local
