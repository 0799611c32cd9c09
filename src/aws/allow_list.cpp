// ParameterAllowList: which request and response parameters an AWS call records (spec §10).
#include <algorithm>
#include <string>
#include <utility>

#include "aws/allow_list_index.hpp"
#include "aws/default_allow_list.hpp"
#include "aws/service_names.hpp"
#include "base/ascii.hpp"
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
    built->rebuild_index();
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
  list.rebuild_index();
  return list;
}

void ParameterAllowList::extend(const ParameterAllowList& more) {
  for (const auto& [service, entry] : more.services_.items()) {
    json& operations = services_[service]["operations"];
    if (!operations.is_object()) operations = json::object();
    for (const auto& [name, operation] : entry["operations"].items()) operations[name] = operation;
  }
  rebuild_index();
}

// One side (request or response) of an operation entry: its parameters, written under their
// snake_case name, then its descriptors (spec §10): map + get_keys -> the map's keys, list +
// get_count -> its length, else the value itself (S3's rename-only Bucket -> bucket_name);
// written under rename_to.
ParameterAllowList::Index::Side ParameterAllowList::Index::compile_side(
    const json& operation, const char* parameters_key, const char* descriptors_key) {
  Side side;
  auto add = [&side](std::string member, std::string key, Take take) {
    bool seen = false;
    for (const std::string& known : side.members) seen = seen || known == member;
    if (!seen) side.members.push_back(member);
    side.parameters.push_back({std::move(member), std::move(key), take});
  };
  auto parameters = operation.find(parameters_key);
  if (parameters != operation.end() && parameters->is_array()) {
    for (const auto& name : *parameters) {
      if (!name.is_string()) continue;
      const std::string& member = name.get_ref<const std::string&>();
      add(member, to_snake_case(member), Take::kValue);
    }
  }
  auto descriptors = operation.find(descriptors_key);
  if (descriptors != operation.end() && descriptors->is_object()) {
    for (const auto& [member, descriptor] : descriptors->items()) {
      if (!descriptor.is_object()) continue;
      auto rename = descriptor.find("rename_to");
      std::string key = rename != descriptor.end() && rename->is_string()
                            ? rename->get<std::string>()
                            : to_snake_case(member);
      const Take take = flag(descriptor, "get_keys")    ? Take::kKeys
                        : flag(descriptor, "get_count") ? Take::kCount
                                                        : Take::kValue;
      add(member, std::move(key), take);
    }
  }
  return side;
}

void ParameterAllowList::rebuild_index() { index_ = Index::build(services_); }

std::shared_ptr<const ParameterAllowList::Index> ParameterAllowList::Index::build(
    const json& services) {
  auto index = std::make_shared<Index>();
  for (const auto& [key, entry] : services.items()) {
    auto operations = entry.find("operations");
    if (operations == entry.end() || !operations->is_object()) continue;
    Service service;
    service.key = key;
    for (const auto& [name, operation] : operations->items()) {  // in name order: json sorts keys
      if (!operation.is_object()) continue;
      service.operations.push_back({name, compile_side(operation, "request_parameters",
                                                       "request_descriptors"),
                                    compile_side(operation, "response_parameters",
                                                 "response_descriptors")});
    }
    index->services.push_back(std::move(service));
  }
  return index;
}

const ParameterAllowList::Index::Operation* ParameterAllowList::Index::find(
    std::string_view service, std::string_view operation) const noexcept {
  const std::string_view key = detail::allow_list_key_view(service);
  for (const Service& candidate : services) {
    if (!xray::detail::iequals(candidate.key, key)) continue;
    auto found = std::lower_bound(
        candidate.operations.begin(), candidate.operations.end(), operation,
        [](const Operation& entry, std::string_view name) { return entry.name < name; });
    return found != candidate.operations.end() && found->name == operation ? &*found : nullptr;
  }
  return nullptr;
}

void ParameterAllowList::apply(std::string_view service, std::string_view operation_name,
                               const json& request, const json& response, json& aws) const {
  const Index::Operation* operation = index_ ? index_->find(service, operation_name) : nullptr;
  if (operation == nullptr) return;
  auto write = [&aws](const std::string& key, json value) { aws[key] = std::move(value); };
  Index::take(operation->request, request, write);
  Index::take(operation->response, response, write);
}

std::vector<std::string> ParameterAllowList::parameter_names(std::string_view service,
                                                             std::string_view operation_name,
                                                             bool response) const {
  const Index::Operation* operation = index_ ? index_->find(service, operation_name) : nullptr;
  if (operation == nullptr) return {};
  return response ? operation->response.members : operation->request.members;
}

}  // namespace xray::aws
