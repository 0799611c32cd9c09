// The default parameter allow-list of xray::aws::ParameterAllowList::defaults() (spec §10).
#pragma once

#include <nlohmann/json.hpp>

namespace xray::aws::detail {

// {"dynamodb": {"operations": {...}}, "sqs": ..., ...}: the "services" object of the list.
nlohmann::json default_allow_list();

}  // namespace xray::aws::detail
