#include "support/fake_daemon.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace xray::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr std::chrono::milliseconds kWait{5000};
constexpr std::string_view kHeader = R"({"format":"json","version":1})";

// A plain UDP client, independent of the SDK, so the fixture is tested on its own.
class UdpSender {
 public:
  UdpSender(const FakeDaemon& daemon, IpVersion version) {
    const bool v6 = version == IpVersion::kV6;
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
    int connected;
    if (v6) {
      sockaddr_in6 addr{};
      addr.sin6_family = AF_INET6;
      addr.sin6_addr = in6addr_loopback;
      addr.sin6_port = htons(daemon.port());
      connected = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    } else {
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(daemon.port());
      connected = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    }
    if (connected != 0) {
      ::close(fd_);
      throw std::system_error(errno, std::generic_category(), "connect");
    }
  }
  ~UdpSender() { ::close(fd_); }
  UdpSender(const UdpSender&) = delete;
  UdpSender& operator=(const UdpSender&) = delete;

  void send(std::string_view bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()))
        << "send failed: " << std::strerror(errno);
  }

 private:
  int fd_ = -1;
};

std::string datagram(const json& document) { return std::string(kHeader) + "\n" + document.dump(); }

json valid_segment() {
  return {{"name", "orders"},
          {"id", "70de5b6f19ff9a0a"},
          {"trace_id", "1-581cf771-a006649127e371903a2de979"},
          {"start_time", 1478293361.271},
          {"end_time", 1478293361.449}};
}

json without_end() {
  json segment = valid_segment();
  segment.erase("end_time");
  return segment;
}

json valid_subsegment(const std::string& name, const std::string& id) {
  return {{"name", name}, {"id", id}, {"start_time", 1478293361.3}, {"end_time", 1478293361.35}};
}

json independent_subsegment() {
  return {{"name", "api.example.com"},
          {"id", "53995c3f42cd8ad8"},
          {"start_time", 1.478293361271E9},
          {"end_time", 1.478293361449E9},
          {"type", "subsegment"},
          {"trace_id", "1-581cf771-a006649127e371903a2de979"},
          {"parent_id", "defdfd9912dc5a56"},
          {"namespace", "remote"}};
}

// segment -> [DynamoDB -> [marshal], inventory (in progress)]
json nested_tree() {
  json dynamo = valid_subsegment("DynamoDB", "e5e4c9b1ef6a45e2");
  dynamo["namespace"] = "aws";
  dynamo["subsegments"] = json::array({valid_subsegment("marshal", "0123456789abcdef")});
  json inventory = {{"name", "inventory"},
                    {"id", "1c9b2f0e7a3d4b55"},
                    {"start_time", 1478293361.36},
                    {"in_progress", true}};
  json segment = valid_segment();
  segment["subsegments"] = json::array({dynamo, inventory});
  return segment;
}

TEST(FakeDaemon, BindsAnEphemeralIpv4LoopbackPort) {
  FakeDaemon daemon;
  EXPECT_NE(daemon.port(), 0);
  EXPECT_EQ(daemon.address(), "127.0.0.1:" + std::to_string(daemon.port()));
  EXPECT_GT(daemon.receive_buffer_bytes(), 0);
  if (::geteuid() == 0) {
    // SO_RCVBUFFORCE works for root; Linux reports twice the requested payload size.
    EXPECT_GE(daemon.receive_buffer_bytes(), FakeDaemon::kRequestedReceiveBufferBytes);
  }
  EXPECT_EQ(daemon.datagram_count(), 0u);
  EXPECT_EQ(daemon.max_datagram_size(), 0u);
}

TEST(FakeDaemon, StoresAValidSegment) {
  FakeDaemon daemon;
  UdpSender sender(daemon, IpVersion::kV4);
  const std::string bytes = datagram(valid_segment());
  sender.send(bytes);

  ASSERT_TRUE(daemon.wait_for_documents(1, kWait));
  EXPECT_THAT(daemon.errors(), IsEmpty());
  ASSERT_THAT(daemon.documents(), SizeIs(1));
  EXPECT_EQ(daemon.documents()[0], valid_segment());
  EXPECT_EQ(daemon.received()[0].datagram_bytes, bytes.size());
  EXPECT_EQ(daemon.datagram_count(), 1u);
  EXPECT_EQ(daemon.max_datagram_size(), bytes.size());
}

TEST(FakeDaemon, AcceptsAnIndependentSubsegmentAndAnInProgressSegment) {
  FakeDaemon daemon;
  UdpSender sender(daemon, IpVersion::kV4);
  json in_progress = without_end();
  in_progress["in_progress"] = true;
  sender.send(datagram(independent_subsegment()));
  sender.send(datagram(in_progress));

  ASSERT_TRUE(daemon.wait_for_documents(2, kWait));
  EXPECT_THAT(daemon.errors(), IsEmpty());
  EXPECT_EQ(daemon.documents()[0], independent_subsegment());
  EXPECT_EQ(daemon.documents()[1], in_progress);
}

TEST(FakeDaemon, AcceptsANestedTreeAndFlattensIt) {
  FakeDaemon daemon;
  UdpSender sender(daemon, IpVersion::kV4);
  sender.send(datagram(nested_tree()));

  ASSERT_TRUE(daemon.wait_for_documents(1, kWait));
  EXPECT_THAT(daemon.errors(), IsEmpty());
  std::vector<json> entities = flatten(daemon.documents());
  ASSERT_THAT(entities, SizeIs(4));
  EXPECT_EQ(entities[0]["name"], "orders");  // depth-first, document order
  EXPECT_EQ(entities[1]["name"], "DynamoDB");
  EXPECT_EQ(entities[2]["name"], "marshal");
  EXPECT_EQ(entities[3]["name"], "inventory");

  const json* marshal = find_by_name(entities, "marshal");
  ASSERT_NE(marshal, nullptr);
  EXPECT_EQ((*marshal)["id"], "0123456789abcdef");
  EXPECT_EQ(find_by_name(entities, "missing"), nullptr);
}

// A datagram the fixture must reject, and a fragment of the error it must report.
struct BadDatagram {
  std::string label;
  std::string bytes;
  std::string expected_error;
};

// Keeps gtest from printing the struct as raw bytes.
void PrintTo(const BadDatagram& bad, std::ostream* os) { *os << bad.label; }

std::string with(json document, const std::string& key, json value) {
  document[key] = std::move(value);
  return datagram(document);
}
std::string without(json document, const std::string& key) {
  document.erase(key);
  return datagram(document);
}

std::vector<BadDatagram> bad_datagrams() {
  const std::string header(kHeader);
  const std::string body = valid_segment().dump();
  json in_progress_and_end = valid_segment();
  in_progress_and_end["in_progress"] = true;
  json deep = nested_tree();
  deep["subsegments"][0]["subsegments"][0].erase("end_time");
  json embedded_bad_id = nested_tree();
  embedded_bad_id["subsegments"][1]["id"] = "xyz";

  return {
      {"NoNewline", header, "no newline"},
      {"GarbageHeader", "hello\n" + body, "invalid header: not valid JSON"},
      {"WrongVersion", std::string(R"({"format":"json","version":2})") + "\n" + body,
       "version is not 1"},
      {"SpacedHeader", std::string(R"({"format": "json", "version": 1})") + "\n" + body,
       "byte-exact"},
      {"HeaderWithoutBody", header + "\n", "nothing after the header"},
      {"InvalidJson", header + "\n{\"name\":\"orders\",", "not one valid JSON document"},
      {"TwoDocuments", header + "\n" + body + body, "not one valid JSON document"},
      {"TrailingNewline", header + "\n" + body + "\n", "bytes after the document"},
      {"ArrayBody", header + "\n[" + body + "]", "does not start with a JSON object"},
      {"MissingName", without(valid_segment(), "name"), "document.name"},
      {"EmptyName", with(valid_segment(), "name", ""), "document.name"},
      {"MissingId", without(valid_segment(), "id"), "document.id"},
      {"UppercaseId", with(valid_segment(), "id", "70DE5B6F19FF9A0A"), "document.id"},
      {"ShortId", with(valid_segment(), "id", "70de5b6f"), "document.id"},
      {"MissingTraceId", without(valid_segment(), "trace_id"), "trace_id is missing"},
      {"BadTraceId", with(valid_segment(), "trace_id", "1-581cf771-a006649127e371903a2de97"),
       "document.trace_id"},
      {"MissingStartTime", without(valid_segment(), "start_time"), "start_time"},
      {"ZeroStartTime", with(valid_segment(), "start_time", 0), "start_time"},
      {"StringStartTime", with(valid_segment(), "start_time", "1478293361.271"), "start_time"},
      {"NoEndNorInProgress", without(valid_segment(), "end_time"), "exactly one of end_time"},
      {"EndAndInProgress", datagram(in_progress_and_end), "exactly one of end_time"},
      {"InProgressFalse", with(without_end(), "in_progress", false), "in_progress"},
      {"EndBeforeStart", with(valid_segment(), "end_time", 1478293361.0), "before start_time"},
      {"FaultFalse", with(valid_segment(), "fault", false), "fault"},
      {"NullField", with(valid_segment(), "user", nullptr), "document.user is null"},
      {"WrongType", with(valid_segment(), "type", "segment"), "type"},
      {"IndependentSubsegmentWithoutParentId", without(independent_subsegment(), "parent_id"),
       "without parent_id"},
      {"IndependentSubsegmentWithoutTraceId", without(independent_subsegment(), "trace_id"),
       "trace_id is missing"},
      {"SubsegmentsNotArray", with(valid_segment(), "subsegments", json::object()),
       "subsegments is not an array"},
      {"DeepSubsegmentWithoutEnd", datagram(deep),
       "document.subsegments[0].subsegments[0] must have exactly one of end_time"},
      {"EmbeddedSubsegmentBadId", datagram(embedded_bad_id), "document.subsegments[1].id"},
  };
}

class FakeDaemonRejects : public ::testing::TestWithParam<BadDatagram> {};

TEST_P(FakeDaemonRejects, ReportsTheProblemAndKeepsTheBytes) {
  const BadDatagram& bad = GetParam();
  FakeDaemon daemon;
  UdpSender sender(daemon, IpVersion::kV4);
  sender.send(bad.bytes);

  ASSERT_TRUE(daemon.wait_for_datagrams(1, kWait));
  EXPECT_THAT(daemon.documents(), IsEmpty());
  std::vector<std::string> errors = daemon.errors();
  ASSERT_THAT(errors, SizeIs(1));
  EXPECT_THAT(errors[0], HasSubstr(bad.expected_error));
  EXPECT_THAT(errors[0], HasSubstr("(" + std::to_string(bad.bytes.size()) + " bytes)"));
  EXPECT_EQ(daemon.max_datagram_size(), bad.bytes.size());
  // The same verdict without a socket.
  EXPECT_THAT(validate_datagram(bad.bytes), HasSubstr(bad.expected_error));
}

INSTANTIATE_TEST_SUITE_P(BadDatagrams, FakeDaemonRejects, ::testing::ValuesIn(bad_datagrams()),
                         [](const auto& info) { return info.param.label; });

TEST(FakeDaemon, ErrorCarriesTheRawBytesEscaped) {
  FakeDaemon daemon;
  UdpSender sender(daemon, IpVersion::kV4);
  sender.send(std::string("bad") + '\x01' + "header\n{}");

  ASSERT_TRUE(daemon.wait_for_datagrams(1, kWait));
  ASSERT_THAT(daemon.errors(), SizeIs(1));
  EXPECT_THAT(daemon.errors()[0], HasSubstr("bad\\x01header\\n{}"));
}

TEST(FakeDaemon, CountsEveryDatagramAndClearForgetsThem) {
  FakeDaemon daemon;
  UdpSender sender(daemon, IpVersion::kV4);
  sender.send("not a datagram");
  sender.send(datagram(valid_segment()));
  ASSERT_TRUE(daemon.wait_for_datagrams(2, kWait));
  EXPECT_EQ(daemon.datagram_count(), 2u);
  EXPECT_THAT(daemon.documents(), SizeIs(1));
  EXPECT_THAT(daemon.errors(), SizeIs(1));

  daemon.clear();
  EXPECT_EQ(daemon.datagram_count(), 0u);
  EXPECT_EQ(daemon.max_datagram_size(), 0u);
  EXPECT_THAT(daemon.documents(), IsEmpty());
  EXPECT_THAT(daemon.errors(), IsEmpty());

  // Waits count from the clear, not from construction.
  sender.send(datagram(nested_tree()));
  ASSERT_TRUE(daemon.wait_for_documents(1, kWait));
  EXPECT_EQ(daemon.documents()[0], nested_tree());
  EXPECT_THAT(daemon.errors(), IsEmpty());
}

TEST(FakeDaemon, WaitReturnsFalseWhenNothingArrives) {
  FakeDaemon daemon;
  EXPECT_FALSE(daemon.wait_for_documents(1, std::chrono::milliseconds(20)));
  EXPECT_FALSE(daemon.wait_for_datagrams(1, std::chrono::milliseconds(20)));
  EXPECT_TRUE(daemon.wait_for_documents(0, std::chrono::milliseconds(0)));
}

TEST(FakeDaemon, DocumentsReceivedByNowIncludeWhatIsQueuedButNotYetRead) {
  FakeDaemon daemon;
  UdpSender sender(daemon, IpVersion::kV4);
  EXPECT_THAT(daemon.documents_received_by_now(kWait).value(), IsEmpty());
  for (int i = 0; i < 50; ++i) sender.send(datagram(valid_segment()));
  // No wait_for_documents: the marker goes out behind the 50 datagrams and comes back after them.
  auto documents = daemon.documents_received_by_now(kWait);
  ASSERT_TRUE(documents.has_value());
  EXPECT_THAT(*documents, SizeIs(50));
  EXPECT_EQ(daemon.datagram_count(), 50u);  // markers are not counted
  EXPECT_THAT(daemon.errors(), IsEmpty());
}

TEST(FakeDaemon, ReceivesADatagramNearTheSizeLimit) {
  FakeDaemon daemon;
  UdpSender sender(daemon, IpVersion::kV4);
  json segment = valid_segment();
  segment["metadata"] = {{"default", {{"blob", std::string(64000, 'x')}}}};
  const std::string bytes = datagram(segment);
  ASSERT_LE(bytes.size(), 65000u);
  sender.send(bytes);

  ASSERT_TRUE(daemon.wait_for_documents(1, kWait));
  EXPECT_THAT(daemon.errors(), IsEmpty());
  EXPECT_EQ(daemon.max_datagram_size(), bytes.size());
  EXPECT_EQ(daemon.documents()[0], segment);
}

TEST(FakeDaemon, ReceivesFromConcurrentSenders) {
  // Small on purpose: a functional check that also runs under TSan, not a load test.
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  FakeDaemon daemon;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&daemon, t] {
      UdpSender sender(daemon, IpVersion::kV4);
      for (int i = 0; i < kPerThread; ++i) {
        json segment = valid_segment();
        segment["annotations"] = {{"thread", t}, {"index", i}};
        sender.send(datagram(segment));
      }
    });
  }
  // Snapshots taken while the receive thread appends, for TSan to check the locking.
  for (int i = 0; i < 100; ++i) {
    (void)daemon.documents();
    (void)daemon.errors();
    (void)daemon.max_datagram_size();
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(daemon.wait_for_documents(kThreads * kPerThread, kWait));
  EXPECT_THAT(daemon.errors(), IsEmpty());
  EXPECT_EQ(daemon.datagram_count(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(FakeDaemon, DestructorStopsTheReceiveThreadPromptly) {
  auto start = std::chrono::steady_clock::now();
  { FakeDaemon daemon; }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(FakeDaemon, WorksOverIpv6Loopback) {
  std::optional<FakeDaemon> daemon;
  try {
    daemon.emplace(IpVersion::kV6);
  } catch (const LoopbackUnavailable& e) {
    GTEST_SKIP() << e.what();
  }
  EXPECT_NE(daemon->port(), 0);
  EXPECT_EQ(daemon->address(), "[::1]:" + std::to_string(daemon->port()));

  UdpSender sender(*daemon, IpVersion::kV6);
  sender.send(datagram(nested_tree()));
  sender.send(without(valid_segment(), "id"));
  ASSERT_TRUE(daemon->wait_for_datagrams(2, kWait));
  ASSERT_THAT(daemon->documents(), SizeIs(1));
  EXPECT_EQ(daemon->documents()[0], nested_tree());
  ASSERT_THAT(daemon->errors(), SizeIs(1));
  EXPECT_THAT(daemon->errors()[0], HasSubstr("document.id"));
}

}  // namespace
}  // namespace xray::testing
