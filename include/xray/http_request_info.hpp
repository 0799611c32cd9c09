// xray/http_request_info.hpp: the http.request fields of a segment or subsegment
// (EntityScope::set_http_request).
// Thread safety: a plain value.
#pragma once

#include <string>

namespace xray {

// http.request fields. Empty strings are omitted.
struct HttpRequestInfo {
  std::string method;
  std::string url;
  std::string user_agent;
  std::string client_ip;
  bool x_forwarded_for = false;  // client_ip came from X-Forwarded-For
  bool traced = false;           // outgoing call to a service known to be traced
};

}  // namespace xray
