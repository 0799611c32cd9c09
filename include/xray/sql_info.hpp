// xray/sql_info.hpp: the sql fields of a subsegment (SubsegmentScope::set_sql).
// Thread safety: a plain value.
#pragma once

#include <string>

namespace xray {

// sql fields. Passwords are removed from connection_string and url. sanitized_query is recorded only
// when enabled (config.collect_sql_queries or AWS_XRAY_COLLECT_SQL_QUERIES=true).
struct SqlInfo {
  std::string connection_string;
  std::string url;
  std::string sanitized_query;
  std::string database_type;
  std::string database_version;
  std::string driver_version;
  std::string user;
  std::string preparation;  // "call" or "statement"
};

}  // namespace xray
