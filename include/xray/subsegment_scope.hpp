// xray/subsegment_scope.hpp: a subsegment, begun by `Recorder::begin_subsegment` under the current
// entity (or an explicit Context) and ended by the scope.
//
//   {
//     auto call = recorder.begin_subsegment("api.example.com");
//     call.set_namespace("remote");
//     call.set_http_request({"GET", "https://api.example.com/items"});
//     call.set_http_status(200);
//   }
//
// Thread safety: thread-compatible, see EntityScope.
#pragma once

#include <string_view>

#include "xray/entity_scope.hpp"
#include "xray/export.hpp"

namespace xray {

class XRAY_EXPORT SubsegmentScope : public EntityScope {
 public:
  SubsegmentScope() noexcept = default;  // inert
  SubsegmentScope(SubsegmentScope&&) noexcept = default;
  SubsegmentScope& operator=(SubsegmentScope&&) noexcept = default;
  ~SubsegmentScope() = default;

  // "aws" for AWS calls, "remote" for other downstream calls; anything else is refused.
  void set_namespace(std::string_view ns) noexcept;
  void set_sql(SqlInfo sql) noexcept;
  // Records the id of a sibling subsegment that completed before this one began.
  void add_precursor_id(std::string_view id) noexcept;

 private:
  friend class Recorder;
  using EntityScope::EntityScope;
};

}  // namespace xray
