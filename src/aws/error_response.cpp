// AWS error responses: the error code and message wherever the protocol puts them, and which
// codes mean throttling.
#include <array>
#include <initializer_list>
#include <string>
#include <utility>

#include "aws/request_view.hpp"
#include "base/ascii.hpp"
#include "xray/aws.hpp"

namespace xray::aws {
namespace {

using json = nlohmann::json;

std::string string_member(const json& object, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto it = object.find(name);
    if (it != object.end() && it->is_string()) return it->get<std::string>();
  }
  return {};
}

// The text of the first <tag>...</tag> in an XML body (AWS XML errors have no attributes or
// nesting inside Code and Message), with the five predefined entities decoded.
std::string xml_element(std::string_view body, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const auto start = body.find(open);
  if (start == std::string_view::npos) return {};
  const auto from = start + open.size();
  const auto end = body.find(close, from);
  if (end == std::string_view::npos) return {};
  std::string_view text = body.substr(from, end - from);
  std::string out;
  out.reserve(text.size());
  static constexpr std::array<std::pair<std::string_view, char>, 5> kEntities{
      {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}}};
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool decoded = false;
    if (text[i] == '&') {
      for (const auto& [entity, c] : kEntities) {
        if (text.substr(i, entity.size()) == entity) {
          out += c;
          i += entity.size() - 1;
          decoded = true;
          break;
        }
      }
    }
    if (!decoded) out += text[i];
  }
  return out;
}

}  // namespace

std::string bare_error_code(std::string_view code) {
  // "...#ResourceNotFoundException" (JSON protocols), "ValidationException:http://..." (the
  // x-amzn-ErrorType header).
  const auto hash = code.rfind('#');
  if (hash != std::string_view::npos) code.remove_prefix(hash + 1);
  code = code.substr(0, code.find(':'));
  return std::string(xray::detail::trim(code));
}

bool is_throttling_error(std::string_view code) noexcept {
  // The codes the AWS SDKs retry as throttling (botocore's and aws-sdk-cpp's lists).
  static constexpr std::array<std::string_view, 14> kThrottling{
      "Throttling",
      "ThrottlingException",
      "ThrottledException",
      "RequestThrottledException",
      "TooManyRequestsException",
      "ProvisionedThroughputExceededException",
      "TransactionInProgressException",
      "RequestLimitExceeded",
      "BandwidthLimitExceeded",
      "LimitExceededException",
      "RequestThrottled",
      "SlowDown",
      "PriorRequestNotComplete",
      "EC2ThrottledException"};
  for (std::string_view candidate : kThrottling) {
    if (code == candidate) return true;
  }
  return false;
}

ErrorDetails parse_error(const Headers& headers, std::string_view body) {
  ErrorDetails details;
  details.code = bare_error_code(detail::header_value(headers, "x-amzn-errortype"));
  if (body.size() > detail::kMaxParsedResponseBytes) return details;
  if (detail::looks_like_json(body)) {
    json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) {
      if (details.code.empty())
        details.code = bare_error_code(string_member(parsed, {"__type", "code", "Code"}));
      details.message = string_member(parsed, {"message", "Message", "errorMessage"});
    }
  } else if (body.find("<Code>") != std::string_view::npos) {
    if (details.code.empty()) details.code = bare_error_code(xml_element(body, "Code"));
    details.message = xml_element(body, "Message");
  }
  return details;
}

}  // namespace xray::aws
