// ParameterAllowList: which request and response parameters an AWS call records (spec §10).
#include <string>
#include <utility>

#include "aws/default_allow_list.hpp"
#include "aws/service_names.hpp"
#include "xray/aws.hpp"

namespace xray::aws {
namespace {

using json = nlohmann::json;

bool is_upper(char c) noexcept { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) noexcept { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

bool is_string_array(const json& value) {
  if (!value.is_array()) return false;
  for (const auto& item : value) {
    if (!item.is_string()) return false;
  }
  return true;
}

// Checks one operation entry; says what is wrong, or returns an empty string.
std::string operation_problem(const json& operation) {
  if (!operation.is_object()) return "is not an object";
  for (const auto& [key, value] : operation.items()) {
    if (key == "request_parameters" || key == "response_parameters") {
      if (!is_string_array(value)) return key + " is not an array of strings";
    } else if (key == "request_descriptors" || key == "response_descriptors") {
      if (!value.is_object()) return key + " is not an object";
      for (const auto& [name, descriptor] : value.items()) {
        if (!descriptor.is_object()) return key + "." + name + " is not an object";
        auto rename = descriptor.find("rename_to");
        if (rename != descriptor.end() && !rename->is_string()) {
          return key + "." + name + ".rename_to is not a string";
        }
        for (const char* flag : {"map", "list", "get_keys", "get_count"}) {
          auto it = descriptor.find(flag);
          if (it != descriptor.end() && !it->is_boolean()) {
            return key + "." + name + "." + flag + " is not a boolean";
          }
        }
      }
    }
    // Other keys are ignored, as the official SDKs do.
  }
  return {};
}

bool flag(const json& descriptor, const char* name) {
  auto it = descriptor.find(name);
  return it != descriptor.end() && it->is_boolean() && it->get<bool>();
}

void copy_parameters(const json& operation, const char* list_key, const json& view, json& aws) {
  auto list = operation.find(list_key);
  if (list == operation.end() || !view.is_object()) return;
  for (const auto& name : *list) {
    auto value = view.find(name.get_ref<const std::string&>());
    if (value != view.end()) aws[to_snake_case(name.get_ref<const std::string&>())] = *value;
  }
}

// Descriptors (spec §10): map + get_keys -> the map's keys, list + get_count -> its length, else
// the value itself (S3's rename-only Bucket -> bucket_name); written under rename_to.
void apply_descriptors(const json& operation, const char* descriptors_key, const json& view,
                       json& aws) {
  auto descriptors = operation.find(descriptors_key);
  if (descriptors == operation.end() || !view.is_object()) return;
  for (const auto& [name, descriptor] : descriptors->items()) {
    auto value = view.find(name);
    if (value == view.end()) continue;
    auto rename = descriptor.find("rename_to");
    const std::string key =
        rename != descriptor.end() ? rename->get<std::string>() : to_snake_case(name);
    if (flag(descriptor, "get_keys")) {
      if (!value->is_object()) continue;  // not the map the list expects: nothing to record
      json keys = json::array();
      for (const auto& item : value->items()) keys.push_back(item.key());
      aws[key] = std::move(keys);
    } else if (flag(descriptor, "get_count")) {
      if (!value->is_array() && !value->is_object()) continue;
      aws[key] = value->size();
    } else {
      aws[key] = *value;
    }
  }
}

// The entry of `operation` of `service` (any name service_name() accepts) in a list's "services"
// object, or null.
const json* find_operation(const json& services, std::string_view service,
                           std::string_view operation) {
  auto entry = services.find(detail::allow_list_key(service));
  if (entry == services.end()) return nullptr;
  const json& operations = (*entry)["operations"];
  auto found = operations.find(std::string(operation));
  return found == operations.end() ? nullptr : &*found;
}

}  // namespace

std::string to_snake_case(std::string_view name) {
  // Two passes, as the official SDKs' rule: '_' before a capitalised word ("SSEKMSKey" ->
  // "SSEKMS_Key"), then between a lowercase letter or digit and an uppercase letter.
  std::string first;
  first.reserve(name.size() + 8);
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (i > 0 && is_upper(name[i]) && i + 1 < name.size() && is_lower(name[i + 1])) first += '_';
    first += name[i];
  }
  std::string out;
  out.reserve(first.size() + 8);
  for (std::size_t i = 0; i < first.size(); ++i) {
    const char c = first[i];
    if (i > 0 && is_upper(c) && (is_lower(first[i - 1]) || is_digit(first[i - 1]))) out += '_';
    out += is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

const ParameterAllowList& ParameterAllowList::defaults() {
  static const ParameterAllowList* list = [] {
    auto* built = new ParameterAllowList();  // never destroyed: usable during static destruction
    built->services_ = detail::default_allow_list();
    return built;
  }();
  return *list;
}

std::optional<ParameterAllowList> ParameterAllowList::parse(std::string_view text,
                                                            std::string* error) {
  auto fail = [&](std::string why) -> std::optional<ParameterAllowList> {
    if (error != nullptr) *error = std::move(why);
    return std::nullopt;
  };
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return fail("not valid JSON");
  if (!document.is_object()) return fail("not a JSON object");
  auto services = document.find("services");
  if (services == document.end() || !services->is_object()) return fail("no \"services\" object");
  ParameterAllowList list;
  for (auto& [service, entry] : services->items()) {
    if (!entry.is_object()) return fail("services." + service + " is not an object");
    auto operations = entry.find("operations");
    if (operations == entry.end() || !operations->is_object()) {
      return fail("services." + service + " has no \"operations\" object");
    }
    for (const auto& [name, operation] : operations->items()) {
      std::string problem = operation_problem(operation);
      if (!problem.empty())
        return fail("services." + service + ".operations." + name + " " + problem);
    }
    list.services_[detail::allow_list_key(service)] = {{"operations", *operations}};
  }
  return list;
}

void ParameterAllowList::extend(const ParameterAllowList& more) {
  for (const auto& [service, entry] : more.services_.items()) {
    json& operations = services_[service]["operations"];
    if (!operations.is_object()) operations = json::object();
    for (const auto& [name, operation] : entry["operations"].items()) operations[name] = operation;
  }
}

void ParameterAllowList::apply(std::string_view service, std::string_view operation_name,
                               const json& request, const json& response, json& aws) const {
  const json* operation = find_operation(services_, service, operation_name);
  if (operation == nullptr) return;
  copy_parameters(*operation, "request_parameters", request, aws);
  apply_descriptors(*operation, "request_descriptors", request, aws);
  copy_parameters(*operation, "response_parameters", response, aws);
  apply_descriptors(*operation, "response_descriptors", response, aws);
}

std::vector<std::string> ParameterAllowList::parameter_names(std::string_view service,
                                                             std::string_view operation_name,
                                                             bool response) const {
  std::vector<std::string> names;
  const json* operation = find_operation(services_, service, operation_name);
  if (operation == nullptr) return names;
  auto parameters = operation->find(response ? "response_parameters" : "request_parameters");
  if (parameters != operation->end()) {
    for (const auto& name : *parameters) names.push_back(name.get<std::string>());
  }
  auto descriptors = operation->find(response ? "response_descriptors" : "request_descriptors");
  if (descriptors != operation->end()) {
    for (const auto& item : descriptors->items()) names.push_back(item.key());
  }
  return names;
}

}  // namespace xray::aws
