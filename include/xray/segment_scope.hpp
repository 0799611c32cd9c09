// xray/segment_scope.hpp: a segment, begun by `Recorder::begin_segment` and ended by the scope.
//
//   {
//     auto segment = recorder.begin_segment("orders", xray::TraceHeader::parse(header_value));
//     segment.set_user("user-123");
//   }  // ended here; sent once every subsegment under it has ended too
//
// Thread safety: thread-compatible, see EntityScope.
#pragma once

#include <string_view>

#include "xray/entity_scope.hpp"
#include "xray/export.hpp"

namespace xray {

class XRAY_EXPORT SegmentScope : public EntityScope {
 public:
  SegmentScope() noexcept = default;  // inert
  SegmentScope(SegmentScope&&) noexcept = default;
  SegmentScope& operator=(SegmentScope&&) noexcept = default;
  ~SegmentScope() = default;

  void set_user(std::string_view user) noexcept;
  void set_service_version(std::string_view version) noexcept;
  // Overrides the plugins' origin (e.g. "AWS::EC2::Instance").
  void set_origin(std::string_view origin) noexcept;
  void set_resource_arn(std::string_view arn) noexcept;
  // The header to return to the caller: Root and the sampling decision.
  TraceHeader response_header() const noexcept;

 private:
  friend class Recorder;
  using EntityScope::EntityScope;
};

}  // namespace xray
