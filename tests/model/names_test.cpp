#include "model/names.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "model/json_writer.hpp"

namespace xray::detail {
namespace {

// Number of code points in valid UTF-8.
std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

TEST(SanitizeNameTest, PythonConformanceVectors) {
  EXPECT_EQ(sanitize_name("DummySegment() Test?"), "DummySegment Test");
  EXPECT_EQ(sanitize_name("Dummy*Sub!segment$"), "DummySubsegment");
}

TEST(SanitizeNameTest, KeepsAllowedAscii) {
  const std::string allowed =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.:/%&#=+\\-@";
  EXPECT_EQ(sanitize_name(allowed), allowed);
  EXPECT_EQ(sanitize_name("api.example.com:443/v1/items#top"), "api.example.com:443/v1/items#top");
  EXPECT_EQ(sanitize_name(""), "");
}

TEST(SanitizeNameTest, RemovesOtherPrintableAsciiAndControls) {
  EXPECT_EQ(sanitize_name("!\"$'()*,;<>?[]^`{|}~"), "");
  EXPECT_EQ(sanitize_name("a\nb\rc\x01g\x7Fh\x1Fi"), "abcghi");
  EXPECT_EQ(sanitize_name(std::string("a\0b", 3)), "ab");
}

TEST(SanitizeNameTest, KeepsNonAsciiCodePoints) {
  const std::string name = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC";
  EXPECT_EQ(sanitize_name(name), name);
  // Non-ASCII punctuation is kept too: no Unicode category tables.
  EXPECT_EQ(sanitize_name("\xC2\xBFz?"), "\xC2\xBFz");
}

TEST(SanitizeNameTest, ReplacesEachIllFormedSequenceByOneReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(sanitize_name("a\xFFz\x80y"), "a" + fffd + "z" + fffd + "y");
  EXPECT_EQ(sanitize_name("a\xE2\x82"), "a" + fffd);
  // Overlong '/' and a UTF-16 surrogate: one U+FFFD per maximal ill-formed subpart, as the writer.
  EXPECT_EQ(sanitize_name("\xC0\xAF"), fffd + fffd);
  EXPECT_EQ(sanitize_name("\xED\xA0\x80"), fffd + fffd + fffd);
}

TEST(SanitizeNameTest, RemovesTabAndC1Controls) {
  // Regression (hostile run): TAB survived cleaning although the spec removes control characters.
  EXPECT_EQ(sanitize_name("a\tb c"), "ab c");
  EXPECT_EQ(sanitize_name("a\xC2\x85" "b\xC2\x9F" "c\xC2\xA0" "d"), "abc\xC2\xA0" "d");
}

TEST(SanitizeNameTest, IllFormedInputNeverExceeds200CodePointsInTheDocument) {
  // Regression (hostile run): 250 overlong or surrogate sequences became names of 400-600 code
  // points once the writer replaced them. Counted here after the JSON writer's own replacement.
  for (const std::string& unit : {std::string("\xC0\xAF"), std::string("\xED\xA0\x80"),
                                 std::string("\xF8\x88\x80\x80\x80"), std::string("\x80")}) {
    std::string hostile;
    for (int i = 0; i < 250; ++i) hostile += unit;
    std::string json;
    JsonWriter writer(json);
    writer.string(sanitize_name(hostile));
    auto parsed = nlohmann::json::parse(json);
    EXPECT_EQ(code_points(parsed.get<std::string>()), 200u);
  }
}

TEST(SanitizeNameTest, TruncatesTo200CodePoints) {
  const std::string long_name(250, 'x');
  EXPECT_EQ(sanitize_name(long_name), std::string(200, 'x'));
  EXPECT_EQ(sanitize_name(std::string(200, 'y')), std::string(200, 'y'));
  // Removed characters do not count towards the limit.
  EXPECT_EQ(sanitize_name(std::string(100, '?') + std::string(200, 'z')), std::string(200, 'z'));
}

TEST(SanitizeNameTest, TruncatesMultiByteNamesAtCodePointBoundaries) {
  std::string euros;
  for (int i = 0; i < 250; ++i) euros += "\xE2\x82\xAC";
  const std::string result = sanitize_name(euros);
  EXPECT_EQ(result.size(), 600u);
  EXPECT_EQ(code_points(result), 200u);
  EXPECT_EQ(result, euros.substr(0, 600));

  // Mixed widths: 199 ASCII then a 4-byte code point, then more.
  const std::string mixed = std::string(199, 'a') + "\xF0\x9F\x98\x80" + "\xC3\xA9" + "b";
  EXPECT_EQ(sanitize_name(mixed), std::string(199, 'a') + "\xF0\x9F\x98\x80");
  const std::string two_byte = std::string(199, 'a') + "\xC3\xA9\xC3\xA9";
  EXPECT_EQ(sanitize_name(two_byte), std::string(199, 'a') + "\xC3\xA9");
}

TEST(SanitizeNameTest, ATruncatedSequenceAtTheLimitBecomesOneReplacementCharacter) {
  const std::string name = std::string(199, 'a') + "\xE2\x82" + "bc";
  EXPECT_EQ(sanitize_name(name), std::string(199, 'a') + "\xEF\xBF\xBD");
}

TEST(AnnotationKeyTest, AcceptsLettersDigitsAndUnderscore) {
  EXPECT_TRUE(is_valid_annotation_key("customer_tier"));
  EXPECT_TRUE(is_valid_annotation_key("A"));
  EXPECT_TRUE(is_valid_annotation_key("_"));
  EXPECT_TRUE(is_valid_annotation_key("0abcXYZ_9"));
}

TEST(AnnotationKeyTest, RejectsEverythingElse) {
  EXPECT_FALSE(is_valid_annotation_key(""));
  EXPECT_FALSE(is_valid_annotation_key("a-b"));
  EXPECT_FALSE(is_valid_annotation_key("a b"));
  EXPECT_FALSE(is_valid_annotation_key("a.b"));
  EXPECT_FALSE(is_valid_annotation_key("caf\xC3\xA9"));
  EXPECT_FALSE(is_valid_annotation_key(std::string("a\0", 2)));
  EXPECT_FALSE(is_valid_annotation_key("key$"));
}

TEST(StripPasswordTest, RemovesPasswordPairsFromConnectionStrings) {
  EXPECT_EQ(strip_password("Server=db;User Id=sa;Password=secret;Database=x"),
            "Server=db;User Id=sa;Database=x");
  EXPECT_EQ(strip_password("Server=db;pwd=secret"), "Server=db");
  EXPECT_EQ(strip_password("PASSWORD=secret;Server=db"), "Server=db");
  EXPECT_EQ(strip_password("Server=db; Password = secret ;Database=x"), "Server=db;Database=x");
  EXPECT_EQ(strip_password("Server=db;PwD=a;Password=b;Database=x"), "Server=db;Database=x");
  EXPECT_EQ(strip_password("Server=db;Password=secret;"), "Server=db;");
  EXPECT_EQ(strip_password("Password=secret"), "");
}

TEST(StripPasswordTest, KeepsOtherKeys) {
  EXPECT_EQ(strip_password("Server=db;PasswordHint=x;MyPwd=y"), "Server=db;PasswordHint=x;MyPwd=y");
  EXPECT_EQ(strip_password("Server=db;User Id=sa"), "Server=db;User Id=sa");
  EXPECT_EQ(strip_password(""), "");
  EXPECT_EQ(strip_password("password"), "password");
}

TEST(StripPasswordTest, RemovesQuotedValuesWithSemicolons) {
  EXPECT_EQ(strip_password("Server=db;Password=\"se;cr\"\"et\";Database=x"),
            "Server=db;Database=x");
  EXPECT_EQ(strip_password("Server=db;Password='se;cret';Database=x"), "Server=db;Database=x");
  EXPECT_EQ(strip_password("Driver={SQL Server};PWD={se;c}}ret};Database=x"),
            "Driver={SQL Server};Database=x");
}

TEST(StripPasswordTest, RemovesUrlUserinfoPassword) {
  EXPECT_EQ(strip_password("postgresql://user:secret@host:5432/db"),
            "postgresql://user@host:5432/db");
  EXPECT_EQ(strip_password("mysql://user:p@ss@host/db"), "mysql://user@host/db");
  EXPECT_EQ(strip_password("postgresql://user:secret@host"), "postgresql://user@host");
  EXPECT_EQ(strip_password("postgresql://user@host:5432/db"), "postgresql://user@host:5432/db");
  EXPECT_EQ(strip_password("postgresql://host:5432/db"), "postgresql://host:5432/db");
  EXPECT_EQ(strip_password("http://host/a:b@c"), "http://host/a:b@c");
}

TEST(StripPasswordTest, RemovesUrlQueryPasswords) {
  EXPECT_EQ(strip_password("postgresql://host/db?user=u&password=secret&sslmode=require"),
            "postgresql://host/db?user=u&sslmode=require");
  EXPECT_EQ(strip_password("postgresql://host/db?password=secret&sslmode=require"),
            "postgresql://host/db?sslmode=require");
  EXPECT_EQ(strip_password("postgresql://host/db?sslmode=require&password=secret"),
            "postgresql://host/db?sslmode=require");
  EXPECT_EQ(strip_password("postgresql://host/db?password=secret"), "postgresql://host/db");
  EXPECT_EQ(strip_password("jdbc:mysql://u:p@host/db?PWD=x&useSSL=true"),
            "jdbc:mysql://u@host/db?useSSL=true");
}

TEST(StripPasswordTest, RemovesJdbcSemicolonParameters) {
  EXPECT_EQ(strip_password("jdbc:sqlserver://host:1433;databaseName=x;password=secret;user=sa"),
            "jdbc:sqlserver://host:1433;databaseName=x;user=sa");
}

}  // namespace
}  // namespace xray::detail

namespace xray::detail {
namespace {

TEST(StripPasswordTest, RemovesPasswordsFromLibpqKeywordValueStrings) {
  EXPECT_EQ(strip_password("host=db user=app password=hunter2 dbname=orders"),
            "host=db user=app dbname=orders");
  EXPECT_EQ(strip_password("host = db  password = 'se cret\\' x' port=5432"), "host=db port=5432");
  EXPECT_EQ(strip_password("PWD=x"), "");
  EXPECT_EQ(strip_password("just some text"), "just some text");  // not keyword/value: unchanged
}

}  // namespace
}  // namespace xray::detail
