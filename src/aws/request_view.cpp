#include "aws/request_view.hpp"

#include <cstdint>
#include <optional>
#include <utility>

#include "base/ascii.hpp"
#include "base/host.hpp"

namespace xray::aws::detail {
namespace {

using json = nlohmann::json;
using xray::detail::iequals;

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

// A forward-only reader of one JSON object's top-level members: it finds where each member's
// value starts and ends without building it, so only wanted values are parsed (by nlohmann, from
// their slice). Request and response bodies can be large (a PutItem's item, a Query's pages)
// while the parameters recorded are a few scalars.
class MemberScanner {
 public:
  explicit MemberScanner(std::string_view text) : text_(text) {}

  bool at(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }
  // A string token (after its opening quote was seen); the raw text between the quotes.
  std::optional<std::string_view> string_body() {
    const std::size_t start = pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '\\') {
        ++pos_;
      } else if (c == '"') {
        return text_.substr(start, pos_ - 1 - start);
      }
    }
    return std::nullopt;
  }
  // The slice holding the next value; nullopt on malformed input. Brackets are balanced, strings
  // skipped whole; the value itself is validated later only if it is wanted.
  std::optional<std::string_view> value() {
    skip_space();
    const std::size_t start = pos_;
    int depth = 0;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        if (!string_body()) return std::nullopt;
        if (depth == 0) return text_.substr(start, pos_ - start);
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) break;  // the end of the enclosing object
        if (--depth == 0) {
          ++pos_;
          return text_.substr(start, pos_ - start);
        }
      } else if (c == ',' && depth == 0) {
        break;
      }
      ++pos_;
    }
    if (depth != 0 || pos_ == start) return std::nullopt;
    return text_.substr(start, pos_ - start);  // a number, true, false or null
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && xray::detail::is_ascii_space(text_[pos_])) ++pos_;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

bool is_wanted(const std::vector<std::string>& wanted, std::string_view name) {
  for (const std::string& candidate : wanted) {
    if (candidate == name) return true;
  }
  return false;
}

// One member's value. The scalars parameters usually are (a table name, a flag, a count) are
// built directly; anything else goes through nlohmann's parser, whose set-up alone costs more
// than a short string. Discarded when the text is not valid JSON.
json parse_value(std::string_view text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    const std::string_view inner = text.substr(1, text.size() - 2);
    bool plain = true;  // printable ASCII without escapes: the text is the value
    for (char c : inner) plain = plain && c >= 0x20 && c < 0x7f && c != '\\' && c != '"';
    if (plain) return json(inner);
  } else if (text == "true" || text == "false") {
    return json(text == "true");
  } else if (text == "null") {
    return json(nullptr);
  } else if (!text.empty() && text.size() <= 18) {
    // A non-negative integer without a leading zero, as nlohmann would read it (unsigned).
    bool digits = text.front() != '0' || text.size() == 1;
    std::uint64_t number = 0;
    for (char c : text) {
      digits = digits && c >= '0' && c <= '9';
      number = number * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (digits) return json(number);
  }
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

// The `wanted` top-level members of a JSON object body. A malformed body (or a wanted value that
// is not valid JSON) gives no members rather than some.
json parse_json_object(std::string_view body, const std::vector<std::string>& wanted) {
  json members = json::object();
  if (body.size() > kMaxParsedBodyBytes || wanted.empty()) return members;
  MemberScanner scanner(body);
  if (!scanner.at('{')) return json::object();
  if (scanner.at('}')) return scanner.at_end() ? members : json::object();
  do {
    if (!scanner.at('"')) return json::object();
    std::optional<std::string_view> key = scanner.string_body();
    if (!key || !scanner.at(':')) return json::object();
    std::optional<std::string_view> value = scanner.value();
    if (!value) return json::object();
    // Names with escapes never match an allow-listed name (plain ASCII), so the raw text compares.
    if (is_wanted(wanted, *key)) {
      json parsed = parse_value(*value);
      if (parsed.is_discarded()) return json::object();
      members[std::string(*key)] = std::move(parsed);
    }
  } while (scanner.at(','));
  return scanner.at('}') && scanner.at_end() ? members : json::object();
}

json parse_form(std::string_view form, const std::vector<std::string>& wanted) {
  json fields = json::object();
  for_each_form_pair(form, [&](std::string_view name, std::string_view value) {
    std::string key = percent_decode(name, true);
    if (is_wanted(wanted, key)) fields[std::move(key)] = percent_decode(value, true);
    return true;
  });
  return fields;
}

void add_if_present(json& view, const char* name, std::string value) {
  if (!value.empty()) view[name] = std::move(value);
}

}  // namespace

std::string_view header_value(const Headers& headers, std::string_view name) noexcept {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return xray::detail::trim(value);
  }
  return {};
}

bool looks_like_json(std::string_view body) noexcept {
  for (char c : body) {
    if (!xray::detail::is_ascii_space(c)) return c == '{';
  }
  return false;
}

std::string form_value(std::string_view form, std::string_view key) {
  std::string found;
  for_each_form_pair(form, [&](std::string_view name, std::string_view value) {
    if (name != key) return true;
    found = percent_decode(value, true);
    return false;
  });
  return found;
}

bool has_form_key(std::string_view form, std::string_view key) {
  bool found = false;
  for_each_form_pair(form, [&](std::string_view name, std::string_view) {
    found = name == key;
    return !found;
  });
  return found;
}

std::vector<std::string_view> path_segments(std::string_view path) {
  std::vector<std::string_view> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty()) {
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

S3Location s3_location(std::string_view host, std::string_view path) {
  S3Location location;
  host = xray::detail::host_without_port(host);
  // Virtual-hosted: <bucket>.s3[.-]<region>.amazonaws.com; otherwise path-style /<bucket>/<key>.
  const auto s3 = host.find(".s3");
  std::vector<std::string_view> segments = path_segments(path);
  std::size_t key_from = 0;
  if (s3 != std::string_view::npos && s3 > 0) {
    location.bucket = host.substr(0, s3);
  } else if (!segments.empty() && !segments[0].empty()) {
    location.bucket = percent_decode(segments[0], false);
    key_from = 1;
  }
  for (std::size_t i = key_from; i < segments.size(); ++i) {
    if (i > key_from) location.key += '/';
    location.key += percent_decode(segments[i], false);
  }
  return location;
}

json request_view(const CallIdentity& identity, const HttpCall& request,
                  const std::vector<std::string>& wanted) {
  json view = looks_like_json(request.body)
                  ? parse_json_object(request.body, wanted)
                  : parse_form(request.body.size() <= kMaxParsedBodyBytes ? request.body
                                                                          : std::string_view(),
                               wanted);
  if (identity.service == "Lambda") {
    std::vector<std::string_view> segments = path_segments(request.path);
    if (segments.size() >= 3 && segments[1] == "functions") {
      view["FunctionName"] = percent_decode(segments[2], false);
    }
    add_if_present(view, "Qualifier", form_value(request.query, "Qualifier"));
    if (request.headers != nullptr) {
      add_if_present(view, "InvocationType",
                     std::string(header_value(*request.headers, "x-amz-invocation-type")));
      add_if_present(view, "LogType",
                     std::string(header_value(*request.headers, "x-amz-log-type")));
    }
  } else if (identity.service == "S3") {
    S3Location location = s3_location(request.host, request.path);
    add_if_present(view, "Bucket", std::move(location.bucket));
    add_if_present(view, "Key", std::move(location.key));
    add_if_present(view, "VersionId", form_value(request.query, "versionId"));
    add_if_present(view, "Prefix", form_value(request.query, "prefix"));
    if (request.headers != nullptr) {
      add_if_present(view, "CopySource",
                     std::string(header_value(*request.headers, "x-amz-copy-source")));
    }
  }
  return view;
}

json response_view(const CallIdentity& identity, const CallOutcome& outcome,
                   const std::vector<std::string>& wanted) {
  json view = outcome.response_body.size() <= kMaxParsedResponseBytes &&
                      looks_like_json(outcome.response_body)
                  ? parse_json_object(outcome.response_body, wanted)
                  : json::object();
  if (identity.service == "Lambda" && outcome.status > 0) {
    view["StatusCode"] = outcome.status;
    add_if_present(view, "FunctionError",
                   std::string(header_value(outcome.response_headers, "x-amz-function-error")));
  }
  return view;
}

}  // namespace xray::aws::detail
