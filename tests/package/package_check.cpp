// Runs the package consumer with AWS_XRAY_DAEMON_ADDRESS pointing at a UDP socket of its own and
// checks the one datagram the consumer must have sent before it exited.
// Usage: package_check <consumer executable>. Exit status 0 when every check passes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    ++failures;
  }
}

const nlohmann::json* find_subsegment(const nlohmann::json& segment, const std::string& name) {
  if (!segment.contains("subsegments")) return nullptr;
  for (const auto& sub : segment["subsegments"]) {
    if (sub.value("name", "") == name) return &sub;
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <consumer>\n", argv[0]);
    return 2;
  }
  int sock = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (sock < 0 || ::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("socket");
    return 2;
  }
  std::string address = "AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string(*e).rfind("AWS_XRAY_", 0) != 0) env.push_back(*e);
  }
  env.push_back(address.data());
  env.push_back(nullptr);
  pid_t pid = 0;
  char* child_argv[] = {argv[1], nullptr};
  if (posix_spawn(&pid, argv[1], nullptr, nullptr, child_argv, env.data()) != 0) {
    std::perror("posix_spawn");
    return 2;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "consumer exits with status 0");

  // flush() returned before the consumer exited, so its datagram is already in our buffer.
  std::vector<std::string> datagrams;
  pollfd pfd{sock, POLLIN, 0};
  while (::poll(&pfd, 1, datagrams.empty() ? 2000 : 200) > 0) {
    std::string buffer(70000, '\0');
    ssize_t n = ::recv(sock, buffer.data(), buffer.size(), 0);
    if (n < 0) break;
    buffer.resize(static_cast<std::size_t>(n));
    datagrams.push_back(buffer);
  }
  check(datagrams.size() == 1, "exactly one datagram (got " + std::to_string(datagrams.size()) + ")");
  if (datagrams.empty()) return 1;

  const std::string header = "{\"format\":\"json\",\"version\":1}\n";
  const std::string& datagram = datagrams.front();
  check(datagram.compare(0, header.size(), header) == 0, "datagram starts with the daemon header");
  nlohmann::json doc = nlohmann::json::parse(datagram.substr(header.size()), nullptr, false);
  check(doc.is_object(), "the body is one JSON document");
  if (!doc.is_object()) return 1;

  check(doc.value("name", "") == "orders", "name is orders");
  check(doc.value("trace_id", "") == "1-5759e988-bd862e3fe1be46a994272793", "trace_id adopted");
  check(doc.value("parent_id", "") == "53995c3f42cd8ad8", "parent_id adopted");
  check(std::regex_match(doc.value("id", ""), std::regex("[0-9a-f]{16}")), "id is 16 hex digits");
  check(doc["start_time"].is_number() && doc["end_time"].is_number() &&
            doc["start_time"].get<double>() < doc["end_time"].get<double>(),
        "start_time < end_time");
  check(doc["annotations"] == nlohmann::json::parse(R"({"customer_id":42,"tier":"gold","vip":true})"),
        "annotations have the right types");
  check(doc["metadata"]["default"]["path"] == "/orders/42", "metadata.default.path");
  check(doc.value("user", "") == "user-123", "user");
  check(doc["aws"]["xray"]["sdk"] == "X-Ray for C++", "aws.xray.sdk");
  check(doc["aws"]["xray"]["sdk_version"].is_string(), "aws.xray.sdk_version");

  const auto* ddb = find_subsegment(doc, "dynamodb");
  check(ddb != nullptr && (*ddb)["annotations"]["table"] == "orders", "dynamodb subsegment");
  const auto* worker = find_subsegment(doc, "worker");
  check(worker != nullptr && worker->value("fault", false), "worker subsegment has fault");
  if (worker != nullptr && worker->contains("cause")) {
    const auto& exception = (*worker)["cause"]["exceptions"][0];
    check(exception.value("message", "") == "boom", "exception message");
    check(exception.value("type", "") == "std::runtime_error", "exception type demangled");
  } else {
    check(false, "worker has a cause");
  }
  if (failures == 0) std::printf("package consumer: document OK\n%s\n", doc.dump(2).c_str());
  return failures == 0 ? 0 : 1;
}
