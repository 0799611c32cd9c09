#include "xray/daemon_address.hpp"

#include <gtest/gtest.h>

#include <string>

namespace xray::detail {
namespace {

DaemonAddress both(const std::string& host, std::uint16_t port) {
  return DaemonAddress{Endpoint{host, port}, Endpoint{host, port}};
}

DaemonAddress pair(const std::string& udp_host, std::uint16_t udp_port, const std::string& tcp_host,
                   std::uint16_t tcp_port) {
  return DaemonAddress{Endpoint{udp_host, udp_port}, Endpoint{tcp_host, tcp_port}};
}

// Asserts the text is rejected with a non-empty one-line reason.
void expect_invalid(const std::string& text) {
  std::string error;
  EXPECT_EQ(parse_daemon_address(text, &error), std::nullopt) << "'" << text << "'";
  EXPECT_FALSE(error.empty()) << "'" << text << "'";
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

void expect_valid(const std::string& text, const DaemonAddress& expected) {
  std::string error;
  const auto address = parse_daemon_address(text, &error);
  ASSERT_TRUE(address.has_value()) << "'" << text << "': " << error;
  EXPECT_EQ(*address, expected) << "'" << text << "'";
}

// ---- §1.3 conformance vectors ----

TEST(DaemonAddress, SingleEndpointSetsBoth) {
  expect_valid("127.0.0.1:2000", both("127.0.0.1", 2000));
  expect_valid("192.168.0.1:3000", both("192.168.0.1", 3000));
  expect_valid("192.168.0.23:8081", both("192.168.0.23", 8081));
  expect_valid("localhost:2000", both("localhost", 2000));
}

TEST(DaemonAddress, PairsGo) {
  expect_valid("tcp:127.0.0.1:5000 udp:127.0.0.1:4000", pair("127.0.0.1", 4000, "127.0.0.1", 5000));
  expect_valid("udp:127.0.0.2:2001 tcp:127.0.0.1:2000", pair("127.0.0.2", 2001, "127.0.0.1", 2000));
  expect_valid("tcp:localhost:2000 udp:localhost:2000", both("localhost", 2000));
}

TEST(DaemonAddress, PairsPythonNodeBothOrders) {
  expect_valid("tcp:192.168.0.1:3000 udp:127.0.0.2:8080",
               pair("127.0.0.2", 8080, "192.168.0.1", 3000));
  expect_valid("udp:127.0.0.2:8080 tcp:192.168.0.1:3000",
               pair("127.0.0.2", 8080, "192.168.0.1", 3000));
  expect_valid("tcp:192.168.0.23:8080 udp:192.168.0.24:3000",
               pair("192.168.0.24", 3000, "192.168.0.23", 8080));
  expect_valid("udp:192.168.0.24:3000 tcp:192.168.0.23:8080",
               pair("192.168.0.24", 3000, "192.168.0.23", 8080));
}

TEST(DaemonAddress, BlankIsInvalidHereCallersTreatItAsUnset) {
  expect_invalid("");
  expect_invalid("   ");
  expect_invalid("\t \n");
}

TEST(DaemonAddress, DefaultIsLoopback2000) {
  EXPECT_EQ(default_daemon_address(), both("127.0.0.1", 2000));
  expect_valid(std::string(kDefaultDaemonAddress), default_daemon_address());
}

TEST(DaemonAddress, DuplicatePrefixInvalid) {
  expect_invalid("udp:127.0.0.2:2001 udp:127.0.0.1:2000");
  expect_invalid("tcp:127.0.0.2:2001 tcp:127.0.0.1:2000");
  expect_invalid("tcp:localhost:2000 tcp:localhost:2000");
  expect_invalid("tcp:127.0.0.5:2001 tcp:127.0.0.5:2001");
}

TEST(DaemonAddress, InvalidPort) {
  expect_invalid("udp:1.2.1:2a tcp:127.0.0.1:2000");
  expect_invalid("localhost:");
  expect_invalid("tcp:localhost:r4 tcp:localhost:2000");
}

TEST(DaemonAddress, OneHalfOfPairInvalid) {
  expect_invalid("udp:127.0.0.2:2001");
  expect_invalid("tcp:192.168.0.1:3000");
  expect_invalid("tcp:127.0.0.100:3000");
  expect_invalid("udp:127.0.0.1:8000");
  std::string error;
  EXPECT_FALSE(parse_daemon_address("udp:127.0.0.1:8000", &error));
  EXPECT_NE(error.find("udp:/tcp:"), std::string::npos) << error;
}

// Go rejects these because they do not resolve; here syntax is all that is checked (§1.3 Decision).
TEST(DaemonAddress, UnresolvableButWellFormedIsValid) {
  expect_valid("udp:127.0.0.2:2001 tcp:127.0.a.1:2000", pair("127.0.0.2", 2001, "127.0.a.1", 2000));
  expect_valid("XYZ:2000", both("XYZ", 2000));
  expect_valid("tcp:ABC:2000 udp:XYZ:2000", pair("XYZ", 2000, "ABC", 2000));
}

TEST(DaemonAddress, MissingHostOrPortInvalid) {
  expect_invalid("192.168.0.1");
  expect_invalid("127.0.0.100");
  expect_invalid(":8000");
  expect_invalid("8000");
}

TEST(DaemonAddress, PrefixMissingInPairInvalid) {
  expect_invalid("127.0.0.2:8080 192.168.0.1:3000");
  expect_invalid("udp:127.0.0.2:8080 192.168.0.1:3000");
  expect_invalid("tcp:127.0.0.100:3000 127.0.0.1:8000");
  expect_invalid("udp:127.0.0.1:8000 127.0.0.100:3000");
}

TEST(DaemonAddress, JavaGluedPairAndBareHostInvalid) {
  expect_invalid("tcp:0.0.0.1:2udp:0.0.0.2:3");
  expect_invalid("0.0.0.1");
}

TEST(DaemonAddress, Ipv6Literals) {
  expect_valid("[::1]:2000", both("::1", 2000));
  expect_valid("udp:[::1]:2000 tcp:[::1]:2001", pair("::1", 2000, "::1", 2001));
  expect_valid("tcp:[fe80::1:2]:5 udp:[2001:db8::8a2e:370:7334]:65535",
               pair("2001:db8::8a2e:370:7334", 65535, "fe80::1:2", 5));
  expect_valid("[::ffff:192.0.2.1]:2000", both("::ffff:192.0.2.1", 2000));
}

TEST(DaemonAddress, SdkInvalidRows) {
  expect_invalid("::1:2000");
  expect_invalid("[::1]");
  expect_invalid("1.2.1:2000");
  expect_invalid("host:0");
  expect_invalid("host:65536");
  expect_invalid("udp:h:1 tcp:h:2 x:h:3");
}

// ---- further grammar edges ----

TEST(DaemonAddress, PortRange) {
  expect_valid("host:1", both("host", 1));
  expect_valid("host:65535", both("host", 65535));
  expect_valid("host:02000", both("host", 2000));
  expect_invalid("host:000000");  // six digits
  expect_invalid("host:99999");
  expect_invalid("host:-1");
  expect_invalid("host:+80");
  expect_invalid("host:20 00");
  expect_invalid("host:2000x");
}

TEST(DaemonAddress, SurroundingAndSeparatingWhitespace) {
  expect_valid("  \t127.0.0.1:2000 \n", both("127.0.0.1", 2000));
  expect_valid(" udp:127.0.0.1:1\t \ttcp:127.0.0.1:2 ", pair("127.0.0.1", 1, "127.0.0.1", 2));
}

TEST(DaemonAddress, Ipv4MustBeDottedQuad) {
  expect_invalid("256.0.0.1:2000");
  expect_invalid("1.2.3.4.5:2000");
  expect_invalid("1..2.3:2000");
  expect_invalid("1.2.3.4.:2000");
  expect_invalid("12345:2000");
  expect_valid("0.0.0.0:2000", both("0.0.0.0", 2000));
  expect_valid("255.255.255.255:2000", both("255.255.255.255", 2000));
}

TEST(DaemonAddress, Ipv6Malformed) {
  expect_invalid("[::1:2000");
  expect_invalid("[::1]2000");
  expect_invalid("[::1]:");
  expect_invalid("[]:2000");
  expect_invalid("[127.0.0.1]:2000");
  expect_invalid("[localhost]:2000");
  expect_invalid("[:::1]:2000");
  expect_invalid("[::1]:2000:1");
  expect_invalid("[fe80::1%eth0]:2000");
}

TEST(DaemonAddress, HostNames) {
  expect_valid("xray-daemon.default.svc.cluster.local:2000",
               both("xray-daemon.default.svc.cluster.local", 2000));
  expect_valid("a:2000", both("a", 2000));
  expect_valid("1host:2000", both("1host", 2000));
  expect_valid("localhost.:2000", both("localhost.", 2000));  // one trailing dot allowed
  expect_invalid("localhost..:2000");
  expect_invalid(".localhost:2000");
  expect_invalid("-host:2000");
  expect_invalid("host-:2000");
  expect_invalid("ho_st:2000");
  expect_invalid("ho st:2000");
  expect_invalid("a..b:2000");
  expect_invalid("h\xc3\xa9st:2000");

  const std::string label63(63, 'a');
  expect_valid(label63 + ":1", both(label63, 1));
  expect_invalid(std::string(64, 'a') + ":1");

  // 4 × 63 + 3 dots = 255 > 253; 3 × 63 + 61 + 3 dots = 253.
  const std::string too_long = label63 + "." + label63 + "." + label63 + "." + label63;
  expect_invalid(too_long + ":1");
  const std::string longest = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  ASSERT_EQ(longest.size(), 253u);
  expect_valid(longest + ":1", both(longest, 1));
  expect_valid(longest + ".:1", both(longest + ".", 1));
}

TEST(DaemonAddress, PrefixesAreExactAndOnlyInPairs) {
  // A single part is a plain endpoint: "udp" is then just a host name.
  expect_valid("udp:2000", both("udp", 2000));
  expect_invalid("UDP:127.0.0.1:1 TCP:127.0.0.1:2");
  expect_invalid("udp:127.0.0.1:1 tcp:");
  expect_invalid("udp: tcp:127.0.0.1:2");
}

TEST(DaemonAddress, NullErrorPointerIsAllowed) {
  EXPECT_EQ(parse_daemon_address("nope", nullptr), std::nullopt);
  EXPECT_TRUE(parse_daemon_address("localhost:2000", nullptr).has_value());
}

TEST(DaemonAddress, ErrorUntouchedOnSuccess) {
  std::string error = "unchanged";
  EXPECT_TRUE(parse_daemon_address("localhost:2000", &error).has_value());
  EXPECT_EQ(error, "unchanged");
}

TEST(DaemonAddress, ErrorIsOneBoundedLine) {
  std::string error;
  const std::string huge = "udp:" + std::string(10000, 'x') + "\n:1 tcp:h:1";
  EXPECT_FALSE(parse_daemon_address(huge, &error));
  EXPECT_EQ(error.find('\n'), std::string::npos);
  EXPECT_LT(error.size(), 300u);
}

TEST(DaemonAddress, EndpointToString) {
  EXPECT_EQ(to_string(Endpoint{"127.0.0.1", 2000}), "127.0.0.1:2000");
  EXPECT_EQ(to_string(Endpoint{"localhost", 1}), "localhost:1");
  EXPECT_EQ(to_string(Endpoint{"::1", 2000}), "[::1]:2000");
  EXPECT_EQ(to_string(Endpoint{"2001:db8::1", 65535}), "[2001:db8::1]:65535");
}

TEST(DaemonAddress, ToStringRoundTrips) {
  for (const char* text : {"127.0.0.1:2000", "[::1]:2000", "localhost.:9", "[2001:db8::1]:65535"}) {
    const auto address = parse_daemon_address(text, nullptr);
    ASSERT_TRUE(address.has_value()) << text;
    EXPECT_EQ(to_string(address->udp), text);
    EXPECT_EQ(to_string(address->tcp), text);
  }
}

TEST(DaemonAddress, Equality) {
  EXPECT_EQ(Endpoint({"a", 1}), Endpoint({"a", 1}));
  EXPECT_NE(Endpoint({"a", 1}), Endpoint({"a", 2}));
  EXPECT_NE(Endpoint({"a", 1}), Endpoint({"b", 1}));
  EXPECT_NE(pair("a", 1, "b", 2), pair("b", 2, "a", 1));
  EXPECT_EQ(pair("a", 1, "b", 2), pair("a", 1, "b", 2));
}

}  // namespace
}  // namespace xray::detail
