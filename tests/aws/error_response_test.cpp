// AWS error responses: codes and messages from every protocol, throttling codes.
#include <gtest/gtest.h>

#include "xray/aws.hpp"

namespace xray::aws {
namespace {

TEST(ParseErrorTest, JsonProtocolTypeIsMadeBare) {
  ErrorDetails e =
      parse_error({}, R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",)"
                      R"("message":"Requested resource not found"})");
  EXPECT_EQ(e.code, "ResourceNotFoundException");
  EXPECT_EQ(e.message, "Requested resource not found");
  e = parse_error({}, R"({"code":"ThrottlingException","Message":"Rate exceeded"})");
  EXPECT_EQ(e.code, "ThrottlingException");
  EXPECT_EQ(e.message, "Rate exceeded");
}

TEST(ParseErrorTest, HeaderWinsAndLosesItsSuffix) {
  Headers headers{
      {"X-Amzn-ErrorType", "ValidationException:http://internal.amazon.com/coral/validate/"}};
  ErrorDetails e = parse_error(headers, R"({"message":"1 validation error"})");
  EXPECT_EQ(e.code, "ValidationException");
  EXPECT_EQ(e.message, "1 validation error");
}

TEST(ParseErrorTest, XmlProtocols) {
  ErrorDetails e = parse_error({},
                               "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code>"
                               "<Message>The key &lt;k&gt; does not exist</Message></Error>");
  EXPECT_EQ(e.code, "NoSuchKey");
  EXPECT_EQ(e.message, "The key <k> does not exist");
  e = parse_error({},
                  "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                  "<Message>Rate exceeded</Message></Error></ErrorResponse>");
  EXPECT_EQ(e.code, "Throttling");
}

TEST(ParseErrorTest, UnreadableBodiesGiveNothing) {
  for (const char* body :
       {"", "<html>502 Bad Gateway</html>", "{not json", "[1,2]", "{\"__type\": 7}"}) {
    ErrorDetails e = parse_error({}, body);
    EXPECT_EQ(e.code, "") << body;
    EXPECT_EQ(e.message, "") << body;
  }
}

TEST(ThrottlingTest, KnownCodes) {
  for (const char* code :
       {"ThrottlingException", "ProvisionedThroughputExceededException", "SlowDown",
        "TooManyRequestsException", "RequestLimitExceeded", "Throttling"}) {
    EXPECT_TRUE(is_throttling_error(code)) << code;
  }
  for (const char* code :
       {"", "ResourceNotFoundException", "ValidationException", "throttlingexception"}) {
    EXPECT_FALSE(is_throttling_error(code)) << code;
  }
}

}  // namespace
}  // namespace xray::aws
