#include "recorder/environment.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include <map>
#include <string>
#include <vector>

namespace xray::detail {
namespace {

using Vars = std::map<std::string, std::string>;

// Reads the environment from `vars` only, collecting warnings.
struct Reading {
  Environment env;
  std::vector<std::string> warnings;
};

Reading read(const Vars& vars) {
  Reading reading;
  reading.env = read_environment(
      [&reading](const std::string& line) { reading.warnings.push_back(line); },
      [&vars](const char* name) -> const char* {
        auto found = vars.find(name);
        return found == vars.end() ? nullptr : found->second.c_str();
      });
  return reading;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void expect_single_warning(const Reading& reading, const std::string& variable,
                           const std::string& value) {
  ASSERT_EQ(reading.warnings.size(), 1u) << variable << "=" << value;
  EXPECT_TRUE(contains(reading.warnings[0], variable)) << reading.warnings[0];
  EXPECT_TRUE(contains(reading.warnings[0], value)) << reading.warnings[0];
}

void expect_all_unset(const Environment& env) {
  EXPECT_FALSE(env.tracing_name);
  EXPECT_FALSE(env.daemon_address);
  EXPECT_FALSE(env.context_missing);
  EXPECT_FALSE(env.sdk_enabled);
  EXPECT_FALSE(env.noop_ids);
  EXPECT_FALSE(env.log_level);
  EXPECT_FALSE(env.collect_sql_queries);
}

const char* const kAllVariables[] = {
    "AWS_XRAY_TRACING_NAME", "AWS_XRAY_DAEMON_ADDRESS", "AWS_XRAY_CONTEXT_MISSING",
    "AWS_XRAY_SDK_ENABLED",  "AWS_XRAY_SDK_DISABLED",   "AWS_XRAY_NOOP_ID",
    "AWS_XRAY_LOG_LEVEL",    "AWS_XRAY_COLLECT_SQL_QUERIES"};

// --- nothing set / blank -------------------------------------------------------------------------

TEST(ReadEnvironment, NothingSetLeavesEverythingUnset) {
  Reading reading = read({});
  expect_all_unset(reading.env);
  EXPECT_TRUE(reading.warnings.empty());
}

TEST(ReadEnvironment, EmptyAndWhitespaceOnlyValuesAreUnset) {
  for (const char* blank : {"", " ", "   ", "\t", " \t\n ", "\r\n"}) {
    Vars vars;
    for (const char* name : kAllVariables) vars[name] = blank;
    Reading reading = read(vars);
    expect_all_unset(reading.env);
    EXPECT_TRUE(reading.warnings.empty()) << "blank value \"" << blank << "\"";
  }
}

TEST(ReadEnvironment, UnrelatedVariablesAreIgnored) {
  Reading reading = read({{"AWS_XRAY_SOMETHING_ELSE", "true"}, {"PATH", "/usr/bin"}});
  expect_all_unset(reading.env);
  EXPECT_TRUE(reading.warnings.empty());
}

TEST(ReadEnvironment, AllValidAtOnce) {
  Reading reading = read({{"AWS_XRAY_TRACING_NAME", "orders"},
                          {"AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:3000"},
                          {"AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR"},
                          {"AWS_XRAY_SDK_ENABLED", "true"},
                          {"AWS_XRAY_NOOP_ID", "false"},
                          {"AWS_XRAY_LOG_LEVEL", "debug"},
                          {"AWS_XRAY_COLLECT_SQL_QUERIES", "true"}});
  EXPECT_TRUE(reading.warnings.empty());
  EXPECT_EQ(reading.env.tracing_name, "orders");
  ASSERT_TRUE(reading.env.daemon_address);
  EXPECT_EQ(reading.env.daemon_address->udp.port, 3000);
  EXPECT_EQ(reading.env.context_missing, ContextMissing::kIgnoreError);
  EXPECT_EQ(reading.env.sdk_enabled, true);
  EXPECT_EQ(reading.env.noop_ids, false);
  EXPECT_EQ(reading.env.log_level, LogLevel::kDebug);
  EXPECT_EQ(reading.env.collect_sql_queries, true);
}

// --- AWS_XRAY_TRACING_NAME -----------------------------------------------------------------------

TEST(ReadEnvironment, TracingName) {
  Reading reading = read({{"AWS_XRAY_TRACING_NAME", "my-service"}});
  EXPECT_EQ(reading.env.tracing_name, "my-service");
  EXPECT_TRUE(reading.warnings.empty());
}

TEST(ReadEnvironment, TracingNameKeepsInnerSpaces) {
  Reading reading = read({{"AWS_XRAY_TRACING_NAME", "My Service"}});
  EXPECT_EQ(reading.env.tracing_name, "My Service");
}

// --- AWS_XRAY_DAEMON_ADDRESS ---------------------------------------------------------------------

TEST(ReadEnvironment, DaemonAddressSingleEndpoint) {
  Reading reading = read({{"AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2000"}});
  EXPECT_TRUE(reading.warnings.empty());
  ASSERT_TRUE(reading.env.daemon_address);
  EXPECT_EQ(reading.env.daemon_address->udp, (Endpoint{"127.0.0.1", 2000}));
  EXPECT_EQ(reading.env.daemon_address->tcp, (Endpoint{"127.0.0.1", 2000}));
}

TEST(ReadEnvironment, DaemonAddressIpv6) {
  Reading reading = read({{"AWS_XRAY_DAEMON_ADDRESS", "[::1]:2000"}});
  EXPECT_TRUE(reading.warnings.empty());
  ASSERT_TRUE(reading.env.daemon_address);
  EXPECT_EQ(reading.env.daemon_address->udp, (Endpoint{"::1", 2000}));
  EXPECT_EQ(reading.env.daemon_address->tcp, (Endpoint{"::1", 2000}));
}

TEST(ReadEnvironment, DaemonAddressPair) {
  Reading reading = read({{"AWS_XRAY_DAEMON_ADDRESS", "udp:127.0.0.1:3000 tcp:127.0.0.1:3001"}});
  EXPECT_TRUE(reading.warnings.empty());
  ASSERT_TRUE(reading.env.daemon_address);
  EXPECT_EQ(reading.env.daemon_address->udp, (Endpoint{"127.0.0.1", 3000}));
  EXPECT_EQ(reading.env.daemon_address->tcp, (Endpoint{"127.0.0.1", 3001}));
}

TEST(ReadEnvironment, DaemonAddressSurroundingWhitespaceIgnored) {
  Reading reading = read({{"AWS_XRAY_DAEMON_ADDRESS", "  localhost:2000 \n"}});
  EXPECT_TRUE(reading.warnings.empty());
  ASSERT_TRUE(reading.env.daemon_address);
  EXPECT_EQ(reading.env.daemon_address->udp, (Endpoint{"localhost", 2000}));
}

TEST(ReadEnvironment, DaemonAddressInvalidWarnsAndIsUnset) {
  for (const char* value :
       {"tcp:127.0.0.5:2001 tcp:127.0.0.5:2001", "127.0.0.1", "::1:2000", "localhost:", "8000",
        "udp:127.0.0.2:2001", "host:65536"}) {
    Reading reading = read({{"AWS_XRAY_DAEMON_ADDRESS", value}});
    EXPECT_FALSE(reading.env.daemon_address) << value;
    expect_single_warning(reading, "AWS_XRAY_DAEMON_ADDRESS", value);
  }
}

TEST(ReadEnvironment, InvalidDaemonAddressDoesNotAffectOtherVariables) {
  Reading reading = read({{"AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1"},
                          {"AWS_XRAY_TRACING_NAME", "svc"},
                          {"AWS_XRAY_LOG_LEVEL", "error"}});
  EXPECT_FALSE(reading.env.daemon_address);
  EXPECT_EQ(reading.env.tracing_name, "svc");
  EXPECT_EQ(reading.env.log_level, LogLevel::kError);
  expect_single_warning(reading, "AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1");
}

// --- AWS_XRAY_CONTEXT_MISSING --------------------------------------------------------------------

TEST(ReadEnvironment, ContextMissingValuesCaseInsensitive) {
  const std::pair<const char*, ContextMissing> cases[] = {
      {"LOG_ERROR", ContextMissing::kLogError},
      {"log_error", ContextMissing::kLogError},
      {"Log_Error", ContextMissing::kLogError},
      {"IGNORE_ERROR", ContextMissing::kIgnoreError},
      {"ignore_error", ContextMissing::kIgnoreError},
      {"RUNTIME_ERROR", ContextMissing::kRuntimeError},
      {"runtime_Error", ContextMissing::kRuntimeError},
      {" RUNTIME_ERROR ", ContextMissing::kRuntimeError},
  };
  for (const auto& [value, expected] : cases) {
    Reading reading = read({{"AWS_XRAY_CONTEXT_MISSING", value}});
    EXPECT_EQ(reading.env.context_missing, expected) << value;
    EXPECT_TRUE(reading.warnings.empty()) << value;
  }
}

TEST(ReadEnvironment, ContextMissingInvalidWarnsAndIsUnset) {
  for (const char* value : {"LOG", "ERROR", "IGNORE", "LOG_ERRORS", "log-error", "1"}) {
    Reading reading = read({{"AWS_XRAY_CONTEXT_MISSING", value}});
    EXPECT_FALSE(reading.env.context_missing) << value;
    expect_single_warning(reading, "AWS_XRAY_CONTEXT_MISSING", value);
  }
}

// --- AWS_XRAY_SDK_ENABLED / AWS_XRAY_SDK_DISABLED ------------------------------------------------

TEST(ReadEnvironment, SdkEnabledTrueValues) {
  for (const char* value : {"y", "Y", "yes", "YES", "Yes", "t", "T", "true", "TRUE", "tRuE", "on",
                            "ON", "On", "1", " true "}) {
    Reading reading = read({{"AWS_XRAY_SDK_ENABLED", value}});
    EXPECT_EQ(reading.env.sdk_enabled, true) << value;
    EXPECT_TRUE(reading.warnings.empty()) << value;
  }
}

TEST(ReadEnvironment, SdkEnabledFalseValues) {
  for (const char* value : {"n", "N", "no", "NO", "No", "f", "F", "false", "FALSE", "fAlSe", "off",
                            "OFF", "Off", "0", "\tfalse\n"}) {
    Reading reading = read({{"AWS_XRAY_SDK_ENABLED", value}});
    EXPECT_EQ(reading.env.sdk_enabled, false) << value;
    EXPECT_TRUE(reading.warnings.empty()) << value;
  }
}

TEST(ReadEnvironment, SdkEnabledInvalidWarnsAndIsUnset) {
  for (const char* value : {"maybe", "2", "-1", "enabled", "truee", "yess", "nope", "10"}) {
    Reading reading = read({{"AWS_XRAY_SDK_ENABLED", value}});
    EXPECT_FALSE(reading.env.sdk_enabled) << value;
    expect_single_warning(reading, "AWS_XRAY_SDK_ENABLED", value);
  }
}

TEST(ReadEnvironment, SdkDisabledTrueDisables) {
  for (const char* value : {"true", "TRUE", "True", " true "}) {
    Reading reading = read({{"AWS_XRAY_SDK_DISABLED", value}});
    EXPECT_EQ(reading.env.sdk_enabled, false) << value;
    EXPECT_TRUE(reading.warnings.empty()) << value;
  }
}

TEST(ReadEnvironment, SdkDisabledOtherValuesIgnoredSilently) {
  for (const char* value : {"false", "1", "yes", "on", "y", "t", "disabled", "0"}) {
    Reading reading = read({{"AWS_XRAY_SDK_DISABLED", value}});
    EXPECT_FALSE(reading.env.sdk_enabled) << value;
    EXPECT_TRUE(reading.warnings.empty()) << value;
  }
}

TEST(ReadEnvironment, EitherSwitchDisables) {
  {
    Reading reading = read({{"AWS_XRAY_SDK_ENABLED", "true"}, {"AWS_XRAY_SDK_DISABLED", "TRUE"}});
    EXPECT_EQ(reading.env.sdk_enabled, false);
  }
  {
    Reading reading = read({{"AWS_XRAY_SDK_ENABLED", "false"}, {"AWS_XRAY_SDK_DISABLED", "false"}});
    EXPECT_EQ(reading.env.sdk_enabled, false);
  }
  {
    Reading reading = read({{"AWS_XRAY_SDK_ENABLED", "yes"}, {"AWS_XRAY_SDK_DISABLED", "false"}});
    EXPECT_EQ(reading.env.sdk_enabled, true);
  }
  {
    Reading reading = read({{"AWS_XRAY_SDK_ENABLED", "bogus"}, {"AWS_XRAY_SDK_DISABLED", "true"}});
    EXPECT_EQ(reading.env.sdk_enabled, false);
    expect_single_warning(reading, "AWS_XRAY_SDK_ENABLED", "bogus");
  }
}

// --- AWS_XRAY_NOOP_ID ----------------------------------------------------------------------------

TEST(ReadEnvironment, NoopIdFalseMeansRealIds) {
  for (const char* value : {"false", "FALSE", "False", " false "}) {
    Reading reading = read({{"AWS_XRAY_NOOP_ID", value}});
    EXPECT_EQ(reading.env.noop_ids, false) << value;
    EXPECT_TRUE(reading.warnings.empty()) << value;
  }
}

TEST(ReadEnvironment, NoopIdAnythingElseMeansNoopIds) {
  for (const char* value : {"True", "true", "0", "no", "f", "off", "falsey", "anything"}) {
    Reading reading = read({{"AWS_XRAY_NOOP_ID", value}});
    EXPECT_EQ(reading.env.noop_ids, true) << value;
    EXPECT_TRUE(reading.warnings.empty()) << value;
  }
}

TEST(ReadEnvironment, NoopIdUnsetIsNullopt) {
  EXPECT_FALSE(read({}).env.noop_ids);
  EXPECT_FALSE(read({{"AWS_XRAY_NOOP_ID", "  "}}).env.noop_ids);
}

// --- AWS_XRAY_LOG_LEVEL --------------------------------------------------------------------------

TEST(ReadEnvironment, LogLevelValuesCaseInsensitive) {
  const std::pair<const char*, LogLevel> cases[] = {
      {"debug", LogLevel::kDebug}, {"DEBUG", LogLevel::kDebug},   {"Info", LogLevel::kInfo},
      {"info", LogLevel::kInfo},   {"WARN", LogLevel::kWarn},     {"warn", LogLevel::kWarn},
      {"error", LogLevel::kError}, {"ErRoR", LogLevel::kError},   {"silent", LogLevel::kSilent},
      {"SILENT", LogLevel::kSilent}, {" info\n", LogLevel::kInfo},
  };
  for (const auto& [value, expected] : cases) {
    Reading reading = read({{"AWS_XRAY_LOG_LEVEL", value}});
    EXPECT_EQ(reading.env.log_level, expected) << value;
    EXPECT_TRUE(reading.warnings.empty()) << value;
  }
}

TEST(ReadEnvironment, LogLevelInvalidWarnsAndIsUnset) {
  for (const char* value : {"warning", "trace", "verbose", "fatal", "2", "none"}) {
    Reading reading = read({{"AWS_XRAY_LOG_LEVEL", value}});
    EXPECT_FALSE(reading.env.log_level) << value;
    expect_single_warning(reading, "AWS_XRAY_LOG_LEVEL", value);
  }
}

// --- AWS_XRAY_COLLECT_SQL_QUERIES ----------------------------------------------------------------

TEST(ReadEnvironment, CollectSqlQueriesTrue) {
  for (const char* value : {"true", "TRUE", "True", " true "}) {
    Reading reading = read({{"AWS_XRAY_COLLECT_SQL_QUERIES", value}});
    EXPECT_EQ(reading.env.collect_sql_queries, true) << value;
    EXPECT_TRUE(reading.warnings.empty()) << value;
  }
}

TEST(ReadEnvironment, CollectSqlQueriesFalse) {
  Reading reading = read({{"AWS_XRAY_COLLECT_SQL_QUERIES", "false"}});
  EXPECT_EQ(reading.env.collect_sql_queries, false);
  EXPECT_TRUE(reading.warnings.empty());
}

TEST(ReadEnvironment, CollectSqlQueriesUnset) {
  EXPECT_FALSE(read({}).env.collect_sql_queries);
  EXPECT_FALSE(read({{"AWS_XRAY_COLLECT_SQL_QUERIES", ""}}).env.collect_sql_queries);
}

// --- the default getenv is the process environment -------------------------------------------------

TEST(ReadEnvironment, TheProcessEnvironmentIsReadAndEachInvalidValueReportedOncePerProcess) {
  // In a child, so that the test's own process environment is never edited.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("AWS_XRAY_TRACING_NAME", "from-process", 1);
    ::setenv("AWS_XRAY_CONTEXT_MISSING", "bogus", 1);
    std::vector<std::string> warnings;
    auto warn = [&](const std::string& line) { warnings.push_back(line); };
    Environment first = read_environment(warn);
    Environment second = read_environment(warn);  // a later configure(): no second report
    const bool ok = first.tracing_name == "from-process" && second.tracing_name == "from-process" &&
                    !first.context_missing && warnings.size() == 1 &&
                    warnings[0].find("AWS_XRAY_CONTEXT_MISSING") != std::string::npos;
    // An injected environment (tests, tools) always reports.
    std::vector<std::string> injected;
    read_environment([&](const std::string& line) { injected.push_back(line); },
                     [](const char* name) -> const char* {
                       return std::string(name) == "AWS_XRAY_CONTEXT_MISSING" ? "bogus" : nullptr;
                     });
    _exit(ok && injected.size() == 1 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// --- parse_bool ----------------------------------------------------------------------------------

TEST(ParseBool, TruthValues) {
  for (const char* text : {"y", "yes", "t", "true", "on", "1", "Y", "YeS", "T", "TRUE", "oN"}) {
    EXPECT_EQ(parse_bool(text), true) << text;
  }
  for (const char* text : {"n", "no", "f", "false", "off", "0", "N", "nO", "F", "FaLsE", "OFF"}) {
    EXPECT_EQ(parse_bool(text), false) << text;
  }
}

TEST(ParseBool, TrimsWhitespace) {
  EXPECT_EQ(parse_bool("  yes\t"), true);
  EXPECT_EQ(parse_bool("\n0 "), false);
}

TEST(ParseBool, Invalid) {
  for (const char* text : {"", " ", "2", "ye", "tru", "truee", "of", "o", "enable", "1 0", "+1"}) {
    EXPECT_FALSE(parse_bool(text)) << "\"" << text << "\"";
  }
}

// --- parse_log_level -----------------------------------------------------------------------------

TEST(ParseLogLevel, AllLevels) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::kDebug);
  EXPECT_EQ(parse_log_level("info"), LogLevel::kInfo);
  EXPECT_EQ(parse_log_level("warn"), LogLevel::kWarn);
  EXPECT_EQ(parse_log_level("error"), LogLevel::kError);
  EXPECT_EQ(parse_log_level("silent"), LogLevel::kSilent);
  EXPECT_EQ(parse_log_level("DEBUG"), LogLevel::kDebug);
  EXPECT_EQ(parse_log_level("Silent"), LogLevel::kSilent);
  EXPECT_EQ(parse_log_level(" warn "), LogLevel::kWarn);
}

TEST(ParseLogLevel, RoundTripsToString) {
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError,
                         LogLevel::kSilent}) {
    EXPECT_EQ(parse_log_level(to_string(level)), level);
  }
}

TEST(ParseLogLevel, Invalid) {
  for (const char* text : {"", "warning", "err", "deb", "trace", "0", "unknown"}) {
    EXPECT_FALSE(parse_log_level(text)) << "\"" << text << "\"";
  }
}

// --- parse_context_missing -----------------------------------------------------------------------

TEST(ParseContextMissing, Values) {
  EXPECT_EQ(parse_context_missing("LOG_ERROR"), ContextMissing::kLogError);
  EXPECT_EQ(parse_context_missing("IGNORE_ERROR"), ContextMissing::kIgnoreError);
  EXPECT_EQ(parse_context_missing("RUNTIME_ERROR"), ContextMissing::kRuntimeError);
  EXPECT_EQ(parse_context_missing("log_error"), ContextMissing::kLogError);
  EXPECT_EQ(parse_context_missing("Ignore_Error"), ContextMissing::kIgnoreError);
  EXPECT_EQ(parse_context_missing("runtime_error"), ContextMissing::kRuntimeError);
  EXPECT_EQ(parse_context_missing("\tLOG_ERROR\n"), ContextMissing::kLogError);
}

TEST(ParseContextMissing, Invalid) {
  for (const char* text : {"", "LOG", "LOGERROR", "LOG ERROR", "RUNTIME_ERROR_", "x"}) {
    EXPECT_FALSE(parse_context_missing(text)) << "\"" << text << "\"";
  }
}

}  // namespace
}  // namespace xray::detail
