// Internal: entity trees to X-Ray segment documents.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model/entity.hpp"

namespace xray::detail {

// Fields the recorder adds to every segment document at serialization: the plugins' origin and
// their aws.* data. Published by the recorder, read by the emitter through an AdditionsSource.
struct DocumentAdditions {
  std::string origin;
  nlohmann::json aws = nlohmann::json::object();
};

// What a document carries besides the entity tree. Plugin data applies to segments only.
struct DocumentContext {
  std::string_view trace_id;
  const std::string* origin = nullptr;       // plugins' origin, used when the segment sets none
  const nlohmann::json* plugin_aws = nullptr;  // object merged into a segment's "aws"
};

// The daemon's datagram header, including the newline.
inline constexpr std::string_view kDatagramHeader = "{\"format\":\"json\",\"version\":1}\n";

// Appends the JSON document for `root` and its embedded subtree to `out`. A segment root gets
// trace_id, parent_id (if any), service, aws.xray and plugin data; a subsegment root is written as an
// independent subsegment (type, trace_id, parent_id). Embedded subsegments omit all three.
void write_document(std::string& out, const Entity& root, const DocumentContext& context);

// Appends `entity` and its subtree as they appear embedded in a parent's "subsegments" array (no
// trace_id, parent_id or type). The emitter's size ladder (§6.2) uses it to weigh subtrees.
void write_embedded(std::string& out, const Entity& entity);

}  // namespace xray::detail
