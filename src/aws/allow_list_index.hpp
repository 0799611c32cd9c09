// ParameterAllowList::Index: the allow-list compiled once, when the list is built, into what each
// AWS call looks up: per service and operation, the members to read from the request and the
// response and the aws.* key each one is written under. A call then finds its operation with two
// short searches and no allocation, instead of walking the list's JSON and converting every
// parameter name to snake_case on every call.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xray/aws.hpp"

namespace xray::aws {

struct ParameterAllowList::Index {
  enum class Take {
    kValue,  // the member's value itself
    kKeys,   // map + get_keys: the keys of an object member
    kCount,  // list + get_count: the number of items of an array (or object) member
  };
  struct Parameter {
    std::string member;  // top-level member of the request or response, e.g. "TableName"
    std::string key;     // written as aws.<key>, e.g. "table_name", or a descriptor's rename_to
    Take take = Take::kValue;
  };
  struct Side {
    // In the order the list gives them: parameters first, then descriptors (a descriptor's
    // key written later wins, as in the official SDKs).
    std::vector<Parameter> parameters;
    std::vector<std::string> members;  // the distinct members read, for the body scanner
  };
  struct Operation {
    std::string name;  // PascalCase, e.g. "GetItem"
    Side request;
    Side response;
  };
  struct Service {
    std::string key;                    // lower-case endpoint prefix, e.g. "dynamodb"
    std::vector<Operation> operations;  // sorted by name
  };

  // Compiles a list's "services" object (already validated, or built in code).
  static std::shared_ptr<const Index> build(const nlohmann::json& services);
  // One side of an operation entry: its "<side>_parameters", then its "<side>_descriptors".
  static Side compile_side(const nlohmann::json& operation, const char* parameters_key,
                           const char* descriptors_key);

  // The operation of `service` (any name service_name() accepts), or null.
  const Operation* find(std::string_view service, std::string_view operation) const noexcept;

  // Calls write(key, value) for each parameter of `side` found in `view` (a JSON object of the
  // call's members), in order.
  template <class Write>
  static void take(const Side& side, const nlohmann::json& view, Write&& write) {
    if (!view.is_object()) return;
    for (const Parameter& parameter : side.parameters) {
      auto value = view.find(parameter.member);
      if (value == view.end()) continue;
      switch (parameter.take) {
        case Take::kValue:
          write(parameter.key, nlohmann::json(*value));
          break;
        case Take::kKeys: {
          if (!value->is_object()) break;  // not the map the list expects: nothing to record
          nlohmann::json keys = nlohmann::json::array();
          for (const auto& item : value->items()) keys.push_back(item.key());
          write(parameter.key, std::move(keys));
          break;
        }
        case Take::kCount:
          if (value->is_array() || value->is_object()) {
            write(parameter.key, nlohmann::json(value->size()));
          }
          break;
      }
    }
  }

  std::vector<Service> services;
};

}  // namespace xray::aws
