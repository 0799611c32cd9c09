// terminal.hpp: xray-local's terminal mode: each document as a tree of its entities, one line per
// entity, for CI logs and for watching a service without a browser (what examples/local_daemon
// printed).
//
//   std::cout << xray::local::document_tree(document);
//
//   segment orders  [1-5759e988-bd862e3fe1be46a994272793]  12.3 ms  POST https://shop/api -> 500  FAULT
//   ├─ dynamodb  2.1 ms  ns=aws  {table=orders}
//   └─ inventory  (in progress)  ns=remote  GET http://inv/items -> 429  ERROR  THROTTLE
//
// Per entity: name, duration or "(in progress)", ns=, user=, HTTP method, URL and status,
// annotations, ERROR/THROTTLE/FAULT, the first exception of `cause` (or cause=<id>), the sampling
// rule of a segment; an independent subsegment says whose child it is.
//
// Thread safety: free function on values; safe to call concurrently.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace xray::local {

// The document's lines, each ending in '\n'. Never throws on odd field types (they are shown as
// JSON or left out); allocation failure aside.
std::string document_tree(const nlohmann::json& document);

}  // namespace xray::local
