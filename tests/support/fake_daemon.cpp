#include "support/fake_daemon.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <system_error>
#include <utility>

namespace xray::testing {
namespace {

constexpr std::string_view kHeader = R"({"format":"json","version":1})";

// Short enough that a destructor (and so every test using the fixture) never waits noticeably.
constexpr int kPollIntervalMs = 10;
// documents_received_by_now(): a datagram starting with this is a marker, followed by its number.
constexpr std::string_view kMarkerPrefix = "xray-fake-daemon-marker:";

// Larger than any UDP payload over IPv4 (65,507) or IPv6 without jumbograms (65,527), so a
// datagram is never cut; MSG_TRUNC still reports the real size should that ever change.
constexpr std::size_t kReceiveBufferSize = 65536;

std::system_error socket_error(const char* what) {
  return std::system_error(errno, std::generic_category(), std::string("FakeDaemon: ") + what);
}

bool is_lower_hex(std::string_view s, std::size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool is_entity_id(const nlohmann::json& value) {
  return value.is_string() && is_lower_hex(value.get_ref<const std::string&>(), 16);
}

// ^1-[0-9a-f]{8}-[0-9a-f]{24}$
bool is_trace_id(const nlohmann::json& value) {
  if (!value.is_string()) return false;
  std::string_view s = value.get_ref<const std::string&>();
  return s.size() == 35 && s.substr(0, 2) == "1-" && is_lower_hex(s.substr(2, 8), 8) &&
         s[10] == '-' && is_lower_hex(s.substr(11), 24);
}

// Printable form of raw bytes for an error message: binary or control bytes become \xNN.
std::string escape_bytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    }
  }
  return out;
}

// Returns the first problem with `entity` (at JSON path `path`), or "" when it is valid.
// Top-level documents need a trace_id; embedded subsegments get it from their segment (§2.3).
std::string validate_entity(const nlohmann::json& entity, const std::string& path, bool top_level) {
  if (!entity.is_object()) return path + " is not a JSON object";
  for (const auto& [key, value] : entity.items()) {
    // §2.1: absent optional fields are omitted, never null.
    if (value.is_null()) return path + "." + key + " is null (absent fields must be omitted)";
  }

  auto name = entity.find("name");
  if (name == entity.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return path + ".name is missing, not a string or empty";
  }
  auto id = entity.find("id");
  if (id == entity.end() || !is_entity_id(*id)) {
    return path + ".id is missing or not 16 lowercase hex digits";
  }
  auto trace_id = entity.find("trace_id");
  if (trace_id != entity.end() && !is_trace_id(*trace_id)) {
    return path + ".trace_id does not match ^1-[0-9a-f]{8}-[0-9a-f]{24}$";
  }
  if (top_level && trace_id == entity.end()) return path + ".trace_id is missing";
  auto parent_id = entity.find("parent_id");
  if (parent_id != entity.end() && !is_entity_id(*parent_id)) {
    return path + ".parent_id is not 16 lowercase hex digits";
  }

  auto type = entity.find("type");
  if (type != entity.end() && *type != "subsegment") {
    return path + ".type is present but not \"subsegment\"";
  }
  if (top_level && type != entity.end()) {
    if (trace_id == entity.end()) return path + " is an independent subsegment without trace_id";
    if (parent_id == entity.end()) return path + " is an independent subsegment without parent_id";
  }

  auto start = entity.find("start_time");
  if (start == entity.end() || !start->is_number() || start->get<double>() <= 0) {
    return path + ".start_time is missing, not a number or not > 0";
  }
  auto end = entity.find("end_time");
  auto in_progress = entity.find("in_progress");
  if (in_progress != entity.end() && *in_progress != true) {
    return path + ".in_progress is present but not true (it must be omitted when false)";
  }
  if ((end == entity.end()) == (in_progress == entity.end())) {
    return path + " must have exactly one of end_time and in_progress";
  }
  if (end != entity.end()) {
    if (!end->is_number()) return path + ".end_time is not a number";
    // §3: times in a tree come from one anchor + a steady clock, so they never run backwards.
    if (end->get<double>() < start->get<double>()) return path + ".end_time is before start_time";
  }
  for (const char* flag : {"error", "fault", "throttle"}) {
    auto it = entity.find(flag);
    if (it != entity.end() && *it != true) {
      return path + "." + flag + " is present but not true (it must be omitted when false)";
    }
  }

  auto subsegments = entity.find("subsegments");
  if (subsegments != entity.end()) {
    if (!subsegments->is_array()) return path + ".subsegments is not an array";
    for (std::size_t i = 0; i < subsegments->size(); ++i) {
      std::string problem =
          validate_entity((*subsegments)[i], path + ".subsegments[" + std::to_string(i) + "]",
                          /*top_level=*/false);
      if (!problem.empty()) return problem;
    }
  }
  return {};
}

void flatten_into(const nlohmann::json& entity, std::vector<nlohmann::json>& out) {
  out.push_back(entity);
  auto subsegments = entity.find("subsegments");
  if (subsegments == entity.end() || !subsegments->is_array()) return;
  for (const auto& child : *subsegments) flatten_into(child, out);
}

}  // namespace

std::string validate_datagram(std::string_view datagram, nlohmann::json* document) {
  auto newline = datagram.find('\n');
  if (newline == std::string_view::npos) return "missing header or segment: no newline";
  std::string_view header = datagram.substr(0, newline);
  std::string_view body = datagram.substr(newline + 1);

  // Check the header's meaning first so the message says what is wrong, then its exact bytes
  // (§1.1 decision: the SDK writes the compact form byte for byte).
  nlohmann::json parsed_header = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (parsed_header.is_discarded()) return "invalid header: not valid JSON";
  if (!parsed_header.is_object() || parsed_header.value("format", nlohmann::json()) != "json" ||
      parsed_header.value("version", nlohmann::json()) != 1) {
    return "invalid header: format is not \"json\" or version is not 1";
  }
  if (header != kHeader) return "invalid header: not byte-exact " + std::string(kHeader);

  if (body.empty()) return "missing segment: nothing after the header";
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    return std::string("body is not one valid JSON document: ") + e.what();
  }
  // nlohmann accepts surrounding whitespace; the spec allows nothing but the one object.
  if (body.front() != '{') return "body does not start with a JSON object";
  if (body.back() != '}') return "body has bytes after the document";
  std::string problem = validate_entity(parsed, "document", /*top_level=*/true);
  if (problem.empty() && document != nullptr) *document = std::move(parsed);
  return problem;
}

std::vector<nlohmann::json> flatten(const std::vector<nlohmann::json>& documents) {
  std::vector<nlohmann::json> out;
  for (const auto& document : documents) flatten_into(document, out);
  return out;
}

const nlohmann::json* find_by_name(const std::vector<nlohmann::json>& entities,
                                   std::string_view name) {
  for (const auto& entity : entities) {
    auto it = entity.find("name");
    if (it != entity.end() && it->is_string() && it->get_ref<const std::string&>() == name) {
      return &entity;
    }
  }
  return nullptr;
}

FakeDaemon::FakeDaemon(IpVersion version, std::uint16_t port) : version_(version) {
  const bool v6 = version == IpVersion::kV6;
  fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    if (v6 && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
      throw LoopbackUnavailable("FakeDaemon: IPv6 is not supported here");
    }
    throw socket_error("socket");
  }
  try {
    int bound = -1;
    if (v6) {
      sockaddr_in6 addr{};
      addr.sin6_family = AF_INET6;
      addr.sin6_addr = in6addr_loopback;
      addr.sin6_port = htons(port);
      bound = ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
      if (bound != 0 && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT)) {
        throw LoopbackUnavailable("FakeDaemon: ::1 is not available");
      }
    } else {
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(port);
      bound = ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    }
    if (bound != 0) throw socket_error("bind");

    // SO_RCVBUF is capped at rmem_max; as root SO_RCVBUFFORCE is not. Either may fail quietly:
    // the size actually granted is read back and exposed instead of assumed.
    int requested = kRequestedReceiveBufferBytes;
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &requested, sizeof requested) != 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &requested, sizeof requested);
    }
    socklen_t length = sizeof receive_buffer_bytes_;
    if (::getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes_, &length) != 0) {
      throw socket_error("getsockopt(SO_RCVBUF)");
    }

    sockaddr_storage local{};
    socklen_t local_length = sizeof local;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &local_length) != 0) {
      throw socket_error("getsockname");
    }
    port_ = ntohs(v6 ? reinterpret_cast<const sockaddr_in6*>(&local)->sin6_port
                     : reinterpret_cast<const sockaddr_in*>(&local)->sin_port);

    thread_ = std::thread(&FakeDaemon::run, this);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

FakeDaemon::~FakeDaemon() {
  stop_.store(true, std::memory_order_relaxed);
  thread_.join();
  ::close(fd_);
}

std::string FakeDaemon::address() const {
  return (version_ == IpVersion::kV6 ? "[::1]:" : "127.0.0.1:") + std::to_string(port_);
}

void FakeDaemon::run() noexcept {
  std::vector<char> buffer(kReceiveBufferSize);
  while (!stop_.load(std::memory_order_relaxed)) {
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, kPollIntervalMs) <= 0) continue;  // timeout or EINTR: re-check stop_
    // Drain everything queued before polling again, so bursts do not overflow the buffer.
    for (;;) {
      ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0) break;  // EAGAIN: drained; anything else: poll again
      auto wire_bytes = static_cast<std::size_t>(n);
      handle_datagram(std::string(buffer.data(), std::min(wire_bytes, buffer.size())), wire_bytes);
    }
  }
}

void FakeDaemon::handle_datagram(std::string datagram, std::size_t wire_bytes) {
  if (datagram.compare(0, kMarkerPrefix.size(), kMarkerPrefix) == 0) {
    const std::uint64_t marker = std::stoull(datagram.substr(kMarkerPrefix.size()));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      markers_seen_ = std::max(markers_seen_, marker);
    }
    arrived_.notify_all();
    return;
  }
  // Parse and validate outside the lock so readers are never held up by a big document.
  nlohmann::json document;
  std::string problem = wire_bytes > datagram.size()
                            ? "datagram of " + std::to_string(wire_bytes) + " bytes was truncated"
                            : validate_datagram(datagram, &document);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++datagram_count_;
    max_datagram_size_ = std::max(max_datagram_size_, wire_bytes);
    if (problem.empty()) {
      documents_.push_back(ReceivedDocument{std::move(document), wire_bytes});
    } else {
      errors_.push_back(problem + " -- datagram (" + std::to_string(wire_bytes) +
                        " bytes): " + escape_bytes(datagram));
    }
  }
  arrived_.notify_all();
}

bool FakeDaemon::wait_for_documents(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] { return documents_.size() >= count; });
}

bool FakeDaemon::wait_for_datagrams(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] { return datagram_count_ >= count; });
}

std::vector<nlohmann::json> FakeDaemon::documents() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<nlohmann::json> out;
  out.reserve(documents_.size());
  for (const auto& received : documents_) out.push_back(received.document);
  return out;
}

std::optional<std::vector<nlohmann::json>> FakeDaemon::documents_received_by_now(
    std::chrono::milliseconds timeout) {
  std::uint64_t marker = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    marker = ++markers_sent_;
  }
  const std::string payload = std::string(kMarkerPrefix) + std::to_string(marker);
  const bool v6 = version_ == IpVersion::kV6;
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  ssize_t sent = -1;
  if (v6) {
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_loopback;
    addr.sin6_port = htons(port_);
    sent = ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&addr),
                    sizeof addr);
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    sent = ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&addr),
                    sizeof addr);
  }
  ::close(fd);
  if (sent != static_cast<ssize_t>(payload.size())) return std::nullopt;
  std::unique_lock<std::mutex> lock(mutex_);
  if (!arrived_.wait_for(lock, timeout, [&] { return markers_seen_ >= marker; })) {
    return std::nullopt;
  }
  std::vector<nlohmann::json> out;
  out.reserve(documents_.size());
  for (const auto& received : documents_) out.push_back(received.document);
  return out;
}

std::vector<ReceivedDocument> FakeDaemon::received() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return documents_;
}

std::vector<std::string> FakeDaemon::errors() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return errors_;
}

std::size_t FakeDaemon::datagram_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return datagram_count_;
}

std::size_t FakeDaemon::max_datagram_size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return max_datagram_size_;
}

void FakeDaemon::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  documents_.clear();
  errors_.clear();
  datagram_count_ = 0;
  max_datagram_size_ = 0;
}

}  // namespace xray::testing
