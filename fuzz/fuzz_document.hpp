// Shared by the fuzz targets that end in a segment document: the properties every datagram the
// emitter sends must have, a capturing emitter that runs the real size ladder on each tree, and a
// serializer shortcut for plugin data.
//
//   DocumentChecker checker;
//   checker.check_datagram(datagram, max_bytes);   // aborts (a libFuzzer crash) on a violation
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "emitter/emitter.hpp"
#include "emitter/size_ladder.hpp"
#include "fuzz_check.hpp"
#include "log/logger.hpp"
#include "model/entity.hpp"
#include "model/serializer.hpp"

namespace xray::fuzz {

inline bool is_hex_id(const nlohmann::json& value) {
  if (!value.is_string()) return false;
  const auto& text = value.get_ref<const std::string&>();
  return text.size() == 16 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

inline bool is_annotation_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_';
    if (!ok) return false;
  }
  return true;
}

// A name after cleaning (spec: at most 200 code points, no control characters).
inline bool is_clean_name(const std::string& name) {
  if (code_points(name) > 200) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7F) return false;
    // C1 controls U+0080-U+009F are C2 80 - C2 9F in UTF-8.
    if (c == 0xC2 && i + 1 < name.size()) {
      const auto next = static_cast<unsigned char>(name[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return false;
    }
  }
  return true;
}

class DocumentChecker {
 public:
  // Ids of complete entities seen since the last reset: each is sent complete exactly once (it
  // may have been sent before as in_progress, spec §6.1, never after).
  std::set<std::string> ids;
  std::size_t datagrams = 0;

  std::size_t complete_entities() const { return ids.size(); }

  void reset() {
    ids.clear();
    datagrams = 0;
  }

  // XRAY_FUZZ_PRINT=1 prints every datagram to stderr, to read what a reproducer sent.
  void check_datagram(std::string_view datagram, std::size_t max_bytes) {
    ++datagrams;
    static const bool print = std::getenv("XRAY_FUZZ_PRINT") != nullptr;
    if (print) {
      std::fprintf(stderr, "datagram %zu (%zu bytes): %.*s\n", datagrams, datagram.size(),
                   static_cast<int>(datagram.size()), datagram.data());
    }
    XRAY_FUZZ_CHECK(datagram.size() <= max_bytes, "datagram larger than max_datagram_bytes");
    const std::string_view header = detail::kDatagramHeader;
    XRAY_FUZZ_CHECK(datagram.substr(0, header.size()) == header, "datagram header missing");
    check_document(datagram.substr(header.size()), /*root=*/true);
  }


  // One document (no header): a single line of valid UTF-8 holding one JSON object.
  void check_document(std::string_view document, bool root) {
    XRAY_FUZZ_CHECK(document.find('\n') == std::string_view::npos,
                    "raw newline in a document: the header line could be forged");
    XRAY_FUZZ_CHECK(is_valid_utf8(document), "document is not valid UTF-8");
    nlohmann::json parsed = nlohmann::json::parse(document, nullptr, /*allow_exceptions=*/false);
    XRAY_FUZZ_CHECK(!parsed.is_discarded(), "document is not valid JSON");
    XRAY_FUZZ_CHECK(parsed.is_object(), "document is not a JSON object");
    // Exactly one document: nlohmann rejects trailing content, so a second value cannot hide here.
    check_entity(parsed, root);
  }

 private:
  // Checks `entity` and its subtree.
  void check_entity(const nlohmann::json& entity, bool root) {
    auto name = entity.find("name");
    XRAY_FUZZ_CHECK(name != entity.end() && name->is_string(), "entity without a string name");
    XRAY_FUZZ_CHECK(is_clean_name(name->get_ref<const std::string&>()),
                    "entity name longer than 200 code points or with control characters");
    auto id = entity.find("id");
    XRAY_FUZZ_CHECK(id != entity.end() && is_hex_id(*id), "entity id is not 16 hex digits");
    const std::string id_text = id->get<std::string>();
    if (root) {
      auto trace_id = entity.find("trace_id");
      XRAY_FUZZ_CHECK(trace_id != entity.end() && trace_id->is_string(), "root without trace_id");
    }
    XRAY_FUZZ_CHECK(entity.contains("start_time") && entity["start_time"].is_number(),
                    "entity without a numeric start_time");
    auto annotations = entity.find("annotations");
    if (annotations != entity.end()) {
      XRAY_FUZZ_CHECK(annotations->is_object(), "annotations is not an object");
      for (const auto& [key, value] : annotations->items()) {
        XRAY_FUZZ_CHECK(is_annotation_key(key), "annotation key outside [A-Za-z0-9_]");
        XRAY_FUZZ_CHECK(value.is_string() || value.is_number() || value.is_boolean(),
                        "annotation value is not a string, number or boolean");
      }
    }
    auto in_progress = entity.find("in_progress");
    if (in_progress != entity.end() && *in_progress == true) {
      XRAY_FUZZ_CHECK(ids.count(id_text) == 0, "entity sent in_progress after it was sent complete");
    } else {
      XRAY_FUZZ_CHECK(ids.insert(id_text).second, "entity sent complete twice");
    }
    auto subsegments = entity.find("subsegments");
    if (subsegments != entity.end()) {
      XRAY_FUZZ_CHECK(subsegments->is_array(), "subsegments is not an array");
      for (const auto& child : *subsegments) {
        XRAY_FUZZ_CHECK(child.is_object(), "subsegment is not an object");
        check_entity(child, /*root=*/false);
      }
    }
  }
};

// An Emitter that runs each submitted tree through the real size ladder at once and checks every
// datagram; counts what the ladder dropped.
class CheckingEmitter final : public detail::Emitter {
 public:
  CheckingEmitter(DocumentChecker& checker, std::size_t max_bytes)
      : checker_(checker), max_bytes_(max_bytes) {
    logger_.set_level(LogLevel::kSilent);  // drops are expected; the counters report them
  }

  void set_max_bytes(std::size_t max_bytes) { max_bytes_ = max_bytes; }
  // Plugin data merged into segments, as the emitter does once detection finished.
  void set_plugin_data(std::string origin, nlohmann::json aws) {
    origin_ = std::move(origin);
    aws_ = std::move(aws);
  }
  std::uint64_t dropped() const { return counters_.dropped_too_large; }
  std::uint64_t submitted() const { return submitted_; }
  void reset_counts() {
    counters_ = {};
    submitted_ = 0;
  }

  void submit(std::shared_ptr<detail::Entity> root) noexcept override {
    ++submitted_;
    detail::DocumentContext context;
    std::shared_ptr<detail::EntityTree> tree = root->tree;
    context.trace_id = tree->trace_id;
    if (!origin_.empty()) context.origin = &origin_;
    if (aws_.is_object()) context.plugin_aws = &aws_;
    const std::size_t max = max_bytes_;
    ladder_.run(std::move(root), context, max,
                [&](std::string& datagram) { checker_.check_datagram(datagram, max); }, counters_);
  }
  bool flush(std::chrono::milliseconds) noexcept override { return true; }
  Stats stats() const noexcept override { return {}; }
  void shutdown(std::chrono::milliseconds) noexcept override {}

 private:
  DocumentChecker& checker_;
  std::size_t max_bytes_;
  detail::Logger logger_;
  detail::SizeLadder ladder_{logger_};
  detail::LadderCounters counters_;
  std::uint64_t submitted_ = 0;
  std::string origin_;
  nlohmann::json aws_;
};

// Serializes a minimal segment carrying `origin` and `aws` as plugin data, as the emitter merges
// it, and checks the document.
inline void check_plugin_document(const std::string& origin, const nlohmann::json& aws) {
  auto tree = std::make_shared<detail::EntityTree>(nullptr, "1-5759e988-bd862e3fe1be46a994272793",
                                                   true, detail::TimeAnchor{});
  detail::Entity segment(tree, 0x53995c3f42cd8ad8ULL, 0, true);
  segment.name = "fuzz";
  segment.start_us = 1478293361271000;
  segment.end_us = 1478293361449123;
  segment.ended = true;
  detail::DocumentContext context;
  context.trace_id = tree->trace_id;
  context.origin = &origin;
  context.plugin_aws = &aws;
  std::string out;
  detail::write_document(out, segment, context);
  DocumentChecker checker;
  checker.check_document(out, /*root=*/true);
  nlohmann::json parsed = nlohmann::json::parse(out);
  XRAY_FUZZ_CHECK(parsed.contains("aws") && parsed["aws"].is_object(), "aws missing");
  XRAY_FUZZ_CHECK(parsed["aws"].contains("xray"), "plugin data replaced aws.xray");
}

}  // namespace xray::fuzz
