#include "xray_local.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "http_get.hpp"
#include "support/temp_file.hpp"
#include "support/test_recorder.hpp"
#include "xray/xray.hpp"

namespace xray::local {
namespace {

using nlohmann::json;
using testing::http;

// Polls `condition` every 20 ms until it holds or `seconds` passed: what the tool does arrives
// over sockets and threads, with no event to wait on.
bool eventually(const std::function<bool()>& condition, double seconds = 10) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

bool plain_build() {
  const char* variant = std::getenv("XRAY_TEST_VARIANT");
  return variant == nullptr || std::string(variant) == "plain";
}

class XrayLocalTest : public ::testing::Test {
 protected:
  void start(const std::string& rules_file = "") {
    Options options;
    options.address = *parse_listen_address("127.0.0.1:0", nullptr);
    options.http = Endpoint{"127.0.0.1", 0};
    options.print = Options::Print::kNothing;
    options.sampling_rules = rules_file;
    StartError error;
    tool_ = XrayLocal::start(options, out_, log_, &error);
    ASSERT_TRUE(tool_) << error.message;
    ASSERT_TRUE(tool_->http_port());
    udp_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(tool_->udp_port());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(udp_, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  }

  void TearDown() override {
    if (udp_ >= 0) ::close(udp_);
    if (tool_) tool_->stop();
  }

  json get(const std::string& target) {
    return http("127.0.0.1", *tool_->http_port(), "GET", target).json();
  }

  json stats() { return get("/api/stats"); }

  void send(const std::string& datagram) {
    ::send(udp_, datagram.data(), datagram.size(), 0);
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(tool_->udp_port()); }

  std::ostringstream out_, log_;
  std::unique_ptr<XrayLocal> tool_;
  int udp_ = -1;
};

const std::string kHeader = "{\"format\":\"json\",\"version\":1}\n";

std::string document(int n, const std::string& extra = "") {
  char id[17];
  std::snprintf(id, sizeof id, "%016x", n + 1);
  char trace[40];
  std::snprintf(trace, sizeof trace, "1-5759e988-%024x", n + 1);
  return std::string(R"({"name":"burst","id":")") + id + R"(","trace_id":")" + trace +
         R"(","start_time":1700000000.5,"end_time":1700000000.75)" + extra + "}";
}

TEST_F(XrayLocalTest, TheSdkSendsATraceAndTheApiShowsIt) {
  start();
  Recorder recorder;
  Config config;
  config.service_name = "checkout";
  config.daemon_address = address();
  config.sampling = false;
  config.streaming_threshold = 0;  // the subsegment travels on its own, joined by parent_id
  ASSERT_TRUE(xray::testing::configure(recorder, config).ok());
  std::string trace_id;
  {
    auto segment = recorder.begin_segment("checkout");
    trace_id = segment.trace_id();
    HttpRequestInfo request;
    request.method = "POST";
    request.url = "http://127.0.0.1/cart";
    segment.set_http_request(request);
    segment.put_annotation("tier", "gold");
    {
      auto call = recorder.begin_subsegment("payments");
      call.set_namespace("remote");
      call.set_http_request(HttpRequestInfo{"GET", "http://payments.internal/charge", "", "", false});
      call.set_http_status(503);
      call.add_exception("PaymentDown", "the payment service is down");
      call.end();
    }
    {
      auto keep_open_for_streaming = recorder.begin_subsegment("render");
      auto inner = recorder.begin_subsegment("template");
    }
    segment.set_http_status(502);
  }
  ASSERT_TRUE(recorder.flush(std::chrono::seconds(5)));

  ASSERT_TRUE(eventually([&] {
    const json list = get("/api/traces?service=checkout");
    return list["matched"] == 1 && list["traces"][0]["entities"] == 4;
  })) << get("/api/traces").dump(2);
  const json list = get("/api/traces?annotation=tier%3Dgold&status=fault");
  ASSERT_EQ(list["traces"].size(), 1u) << list.dump(2);
  const json& summary = list["traces"][0];
  EXPECT_EQ(summary["id"], trace_id);
  EXPECT_EQ(summary["method"], "POST");
  EXPECT_EQ(summary["status"], 502);

  const json trace = get("/api/traces/" + trace_id);
  ASSERT_EQ(trace["roots"].size(), 1u) << trace.dump(2);
  const json& root = trace["roots"][0];
  EXPECT_EQ(root["name"], "checkout");
  ASSERT_EQ(root["subsegments"].size(), 2u) << root.dump(2);
  EXPECT_EQ(root["subsegments"][0]["name"], "payments");
  EXPECT_EQ(root["subsegments"][0]["cause"]["exceptions"][0]["message"], "the payment service is down");
  EXPECT_EQ(root["subsegments"][1]["subsegments"][0]["name"], "template");
  EXPECT_GE(trace["documents"].get<int>(), 2);  // streamed: more than one document

  const json map = get("/api/service-map");
  bool payments_edge = false;
  for (const json& edge : map["edges"]) {
    payments_edge = payments_edge || (edge["id"] == "service:checkout| -> remote:payments.internal" &&
                                      edge["faults"] == 1);
  }
  EXPECT_TRUE(payments_edge) << map.dump(2);
}

TEST_F(XrayLocalTest, SamplingProxyRoundTrip) {
  xray::testing::TempFile rules(R"([{"RuleName":"xl-test","Priority":1,"FixedRate":0,"ReservoirSize":100,
    "ServiceName":"sampled-*","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"*",
    "Version":1,"ResourceARN":"*","Attributes":{}}])");
  start(rules.path());
  Recorder recorder;
  Config config;
  config.service_name = "sampled-service";
  config.daemon_address = address();  // UDP and the TCP proxy on the same port, as the daemon
  ASSERT_TRUE(xray::testing::configure(recorder, config).ok());
  // The first decision fetches the rules (in the background); until they arrive local rules decide.
  { auto first = recorder.begin_segment("sampled-service"); }
  ASSERT_TRUE(eventually([&] { return stats()["sampling"]["rule_requests"].get<int>() >= 1; }));
  std::string trace_id;
  ASSERT_TRUE(eventually([&] {
    auto segment = recorder.begin_segment("sampled-service");
    const std::string id = segment.trace_id();
    segment.end();
    recorder.flush(std::chrono::seconds(2));
    const json trace = get("/api/traces/" + id);
    if (!trace.contains("roots")) return false;
    const json rule = trace["roots"][0]["aws"]["xray"].value("sampling_rule_name", json());
    return rule == "xl-test";
  })) << get("/api/traces").dump(2);

  // The statistics half, as the SDK's poller sends it every 10 s.
  const auto reply = http("127.0.0.1", tool_->tcp_port(), "POST", "/SamplingTargets",
                          R"({"SamplingStatisticsDocuments":[{"RuleName":"xl-test",
                              "ClientID":"0123456789abcdef01234567","Timestamp":1,
                              "RequestCount":4,"SampledCount":3,"BorrowCount":1}]})");
  ASSERT_EQ(reply.status, 200);
  const json targets = reply.json();
  ASSERT_EQ(targets["SamplingTargetDocuments"].size(), 1u);
  EXPECT_EQ(targets["SamplingTargetDocuments"][0]["ReservoirQuota"], 100);
  EXPECT_EQ(stats()["sampling"]["statistics"]["xl-test"]["requests"], 4);
  EXPECT_EQ(http("127.0.0.1", tool_->tcp_port(), "GET", "/GetSamplingRules").status, 405);
}

TEST_F(XrayLocalTest, BadInputIsCountedAndShownAndTheToolKeepsServing) {
  start();
  const std::string good = document(0);
  send("{\"format\":\"json\",\"vers");                // truncated inside the header
  send(kHeader + good.substr(0, good.size() / 2));  // truncated inside the document
  send(kHeader + "{\"name\": nope}");               // invalid JSON
  send("{\"format\":\"json\",\"version\":9}\n" + good);
  send(kHeader + "\"just a string\"");
  send(kHeader + std::string(100, '[') + std::string(100, ']'));
  send(kHeader + document(1, R"(,"colour":"blue","weight":3)"));  // unknown fields: kept
  // A 65,000-byte document (the SDK's default datagram limit is 65,000 bytes in all).
  std::string big = document(2);
  big.pop_back();  // the closing brace
  big += R"(,"metadata":{"default":{"blob":")";
  const std::size_t blob = 65000 - big.size() - 4;
  big += std::string(blob, 'x') + "\"}}}";
  ASSERT_EQ(big.size(), 65000u);
  send(kHeader + big);

  ASSERT_TRUE(eventually([&] { return stats()["ingest"]["datagrams"] == 8; })) << stats().dump(2);
  const json ingest = stats()["ingest"];
  EXPECT_EQ(ingest["accepted"], 2);
  EXPECT_EQ(ingest["rejected"], 6);
  EXPECT_EQ(ingest["problems"]["missing_header_or_body"], 1);
  EXPECT_EQ(ingest["problems"]["invalid_json"], 2);
  EXPECT_EQ(ingest["problems"]["invalid_header"], 1);
  EXPECT_EQ(ingest["problems"]["not_an_object"], 1);
  EXPECT_EQ(ingest["problems"]["too_deep"], 1);
  EXPECT_EQ(ingest["unknown_fields"]["documents"], 1);
  EXPECT_EQ(ingest["unknown_fields"]["names"]["colour"], 1);
  const json listed = get("/api/traces/1-5759e988-000000000000000000000003");
  ASSERT_TRUE(listed.contains("roots")) << listed.dump();
  EXPECT_EQ(listed["roots"][0]["metadata"]["default"]["blob"].get<std::string>().size(), blob);

  // A burst: 100,000 documents back to back (plain build; the sanitizer builds receive several
  // times slower, so they send 5,000).
  const int burst = plain_build() ? 100000 : 5000;
  std::vector<std::string> datagrams;
  datagrams.reserve(burst);
  for (int i = 0; i < burst; ++i) {
    datagrams.push_back(kHeader + document(1000 + i, R"(,"annotations":{"n":)" + std::to_string(i) + "}"));
  }
  const auto began = std::chrono::steady_clock::now();
  for (const std::string& d : datagrams) send(d);
  const double sent_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::uint64_t seen = 0;
  // Done when the count stops moving (what the kernel dropped from a full buffer never comes).
  eventually([&] {
    const std::uint64_t now = tool_->datagrams();
    const bool settled = now == seen && now > 8;
    seen = now;
    return settled;
  }, 60);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  const json after = stats();
  const std::uint64_t received = after["ingest"]["datagrams"].get<std::uint64_t>() - 8;
  std::printf("burst: %d sent in %.2f s; %llu received (%.1f%%, the rest dropped by the kernel: "
              "counted), %.0f documents/s ingested; store %llu traces, %.1f MiB estimated\n",
              burst, sent_seconds, static_cast<unsigned long long>(received), 100.0 * received / burst,
              received / seconds, static_cast<unsigned long long>(after["store"]["traces"].get<std::uint64_t>()),
              after["store"]["bytes"].get<double>() / (1 << 20));
  EXPECT_GT(received, 0u);
  EXPECT_EQ(after["ingest"]["accepted"].get<std::uint64_t>(), received + 2);
  EXPECT_EQ(after["ingest"]["rejected"], 6);
  EXPECT_EQ(after["store"]["documents"].get<std::uint64_t>(), received + 2);

  // Still serving: a new document shows up, the console answers.
  send(kHeader + document(999999));
  EXPECT_TRUE(eventually([&] { return get("/api/traces/1-5759e988-0000000000000000000f4240").contains("roots"); }));
  EXPECT_EQ(http("127.0.0.1", *tool_->http_port(), "GET", "/").status, 200);
  // Every datagram is accounted for: read by the tool, or dropped by the kernel from a full
  // receive buffer (reported with the next datagram read: the one just sent).
  const json last = stats();
  EXPECT_EQ(last["ingest"]["datagrams"].get<std::uint64_t>() +
                last["listening"]["dropped_by_kernel"].get<std::uint64_t>(),
            static_cast<std::uint64_t>(8 + burst + 1))
      << last.dump(2);
}

TEST_F(XrayLocalTest, ForwardsEveryDatagramUnchanged) {
  // The "real daemon" behind it: a plain UDP socket on a free port.
  const int daemon = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(daemon, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  socklen_t length = sizeof at;
  ::getsockname(daemon, reinterpret_cast<sockaddr*>(&at), &length);
  timeval wait{5, 0};
  ::setsockopt(daemon, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);

  Options options;
  options.address = *parse_listen_address("127.0.0.1:0", nullptr);
  options.http.reset();
  options.print = Options::Print::kTreeAndJson;
  options.forward = Endpoint{"127.0.0.1", ntohs(at.sin_port)};
  StartError error;
  tool_ = XrayLocal::start(options, out_, log_, &error);
  ASSERT_TRUE(tool_) << error.message;
  udp_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to = at;
  to.sin_port = htons(tool_->udp_port());
  ASSERT_EQ(::connect(udp_, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);

  for (const std::string& datagram : {kHeader + document(5), std::string("not even a header")}) {
    send(datagram);
    char buffer[70000];
    const ssize_t n = ::recv(daemon, buffer, sizeof buffer, 0);
    ASSERT_EQ(std::string(buffer, static_cast<std::size_t>(std::max<ssize_t>(n, 0))), datagram);
  }
  ::close(daemon);
  // Terminal mode printed the good one as a tree, then (--json) as it arrived.
  EXPECT_TRUE(eventually([&] { return tool_->datagrams() == 2; }));
  tool_->stop();
  EXPECT_EQ(out_.str(), "segment burst  [1-5759e988-000000000000000000000006]  250.0 ms\n" +
                            document(5) + "\n");
}

// Runs the installed binary; returns its exit status, its output in `output`.
int run_tool(const std::string& arguments, std::string* output) {
  const std::string command = std::string(XRAY_LOCAL_BINARY) + " " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output->append(buffer, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(XrayLocalCommandTest, AnAddressItCannotBindExitsOneNamingAddressAndReason) {
  // Ports held by this test, so the tool finds them taken.
  const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(udp, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  ASSERT_EQ(::bind(tcp, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  ASSERT_EQ(::listen(tcp, 1), 0);
  socklen_t length = sizeof at;
  ::getsockname(udp, reinterpret_cast<sockaddr*>(&at), &length);
  const std::string udp_port = std::to_string(ntohs(at.sin_port));
  ::getsockname(tcp, reinterpret_cast<sockaddr*>(&at), &length);
  const std::string tcp_port = std::to_string(ntohs(at.sin_port));

  std::string output;
  EXPECT_EQ(run_tool("--address 127.0.0.1:" + udp_port + " --http off --quiet", &output), 1);
  EXPECT_NE(output.find("cannot listen on udp 127.0.0.1:" + udp_port + ": Address already in use"),
            std::string::npos) << output;

  output.clear();
  EXPECT_EQ(run_tool("--address 127.0.0.1:0 --http 127.0.0.1:" + tcp_port + " --quiet", &output), 1);
  EXPECT_NE(output.find("cannot listen on tcp 127.0.0.1:" + tcp_port + ": Address already in use"),
            std::string::npos) << output;

  output.clear();
  // TEST-NET-1 (RFC 5737) is on no interface of this machine.
  EXPECT_EQ(run_tool("--address 192.0.2.1:2000 --http off --quiet", &output), 1);
  EXPECT_NE(output.find("cannot listen on udp 192.0.2.1:2000: Cannot assign requested address"),
            std::string::npos) << output;
  ::close(udp);
  ::close(tcp);
}

TEST(XrayLocalCommandTest, BadArgumentsAndRulesFilesExitTwo) {
  std::string output;
  EXPECT_EQ(run_tool("--address ::1:2000", &output), 2);
  EXPECT_NE(output.find("--address '::1:2000'"), std::string::npos) << output;
  output.clear();
  xray::testing::TempFile rules(R"({"rules": []})");
  EXPECT_EQ(run_tool("--port 0 --http off --sampling-rules " + rules.path(), &output), 2);
  EXPECT_NE(output.find(rules.path() + ": neither an array"), std::string::npos) << output;
  output.clear();
  EXPECT_EQ(run_tool("--help", &output), 0);
  EXPECT_NE(output.find("usage: xray-local"), std::string::npos);
}

TEST(XrayLocalCommandTest, ListensOnIpv6ForDatagramsSamplingAndTheConsole) {
  const int probe = ::socket(AF_INET6, SOCK_DGRAM, 0);
  sockaddr_in6 loopback{};
  loopback.sin6_family = AF_INET6;
  loopback.sin6_addr = in6addr_loopback;
  if (probe < 0 || ::bind(probe, reinterpret_cast<sockaddr*>(&loopback), sizeof loopback) != 0) {
    if (probe >= 0) ::close(probe);
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  ::close(probe);
  Options options;
  options.address = *parse_listen_address("[::1]:0", nullptr);
  options.http = Endpoint{"::1", 0};
  options.print = Options::Print::kNothing;
  std::ostringstream out, log;
  StartError error;
  auto tool = XrayLocal::start(options, out, log, &error);
  ASSERT_TRUE(tool) << error.message;
  EXPECT_EQ(tool->console_url(), "http://[::1]:" + std::to_string(*tool->http_port()) + "/");
  const int udp = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 to = loopback;
  to.sin6_port = htons(tool->udp_port());
  const std::string datagram = kHeader + document(7);
  ::sendto(udp, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  ::close(udp);
  EXPECT_TRUE(eventually([&] {
    return http("::1", *tool->http_port(), "GET", "/api/traces").json()["total"] == 1;
  }));
  EXPECT_EQ(http("::1", tool->tcp_port(), "POST", "/GetSamplingRules").status, 200);
}

}  // namespace
}  // namespace xray::local
