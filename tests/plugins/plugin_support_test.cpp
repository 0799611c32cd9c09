#include "plugins/plugin_support.hpp"

#include <cctype>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/fake_http_server.hpp"
#include "support/temp_file.hpp"

namespace xray::plugins::detail {
namespace {

using json = nlohmann::json;
using testing::FakeHttpServer;
using testing::HttpReply;
using testing::missing_path;
using testing::RecordedRequest;
using testing::ScopedEnv;
using testing::TempFile;

constexpr const char* kId = "ea32192c8553fbff06c9340478a2ff089b2bb5646fb718b4ee206641c9086d66";
constexpr const char* kOtherId = "3ef0a4d7c5d48f81a2a1ecfa2aeb0f6a9d2c3f1e5b7d4c6a8e9f0a1b2c3d4e5f";

std::chrono::steady_clock::time_point generous_deadline() {
  return std::chrono::steady_clock::now() + std::chrono::seconds(10);
}

TEST(ContainerIdTest, CgroupV1TakesTheLast64CharactersOfTheFirstLongLine) {
  TempFile cgroup(std::string("14:misc:/\n") + "13:name=systemd:/docker/" + kId + "\n" +
                  "12:pids:/docker/" + kOtherId + "\n");
  EXPECT_EQ(container_id(cgroup.path(), missing_path()), kId);
}

TEST(ContainerIdTest, CgroupV1WithoutATrailingNewline) {
  TempFile cgroup(std::string("1:cpu:/ecs/task-id/") + kId);
  EXPECT_EQ(container_id(cgroup.path(), missing_path()), kId);
}

TEST(ContainerIdTest, CgroupV2FindsTheIdAfterDockerInMountinfo) {
  TempFile cgroup("0::/\n");
  TempFile mountinfo(std::string("1520 1519 0:135 / / rw - overlay overlay rw\n") +
                     "1530 1520 259:1 /docker/" + kId + "/hostname /etc/hostname rw - ext4 x rw\n");
  EXPECT_EQ(container_id(cgroup.path(), mountinfo.path()), kId);
}

TEST(ContainerIdTest, CgroupV2FindsTheIdAfterContainersInMountinfo) {
  TempFile cgroup("0::/\n");
  TempFile mountinfo(std::string("1531 1520 259:1 /var/lib/docker/containers/") + kId +
                     "/resolv.conf /etc/resolv.conf rw - ext4 x rw\n");
  EXPECT_EQ(container_id(cgroup.path(), mountinfo.path()), kId);
}

TEST(ContainerIdTest, CgroupV2SkipsMarkersNotFollowedBy64Hex) {
  TempFile cgroup("0::/\n");
  TempFile mountinfo(std::string("1 0 0:1 /docker/volumes/data / rw - ext4 x rw\n") +
                     "2 0 0:1 /docker/abc123/hostname / rw - ext4 x rw\n" +
                     "3 0 0:1 /docker/" + kOtherId + "/hosts /etc/hosts rw - ext4 x rw\n");
  EXPECT_EQ(container_id(cgroup.path(), mountinfo.path()), kOtherId);
}

TEST(ContainerIdTest, ALongNonHexFirstLineFallsBackToMountinfo) {
  TempFile cgroup(
      "0::/system.slice/some-very-long-service-name-that-is-certainly-more-than-64-chars.service\n");
  TempFile mountinfo(std::string("1531 1520 259:1 /containers/") + kOtherId + "/hosts / rw\n");
  EXPECT_EQ(container_id(cgroup.path(), mountinfo.path()), kOtherId);
}

TEST(ContainerIdTest, NothingFoundIsNullopt) {
  TempFile cgroup("0::/\n");
  TempFile mountinfo("1520 1519 0:135 / / rw,relatime - overlay overlay rw\n");
  EXPECT_EQ(container_id(cgroup.path(), mountinfo.path()), std::nullopt);
  EXPECT_EQ(container_id(missing_path(), missing_path()), std::nullopt);
}

TEST(ContainerIdTest, UppercaseHexIsNotAnId) {
  std::string upper(kId);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  TempFile cgroup("1:cpu:/docker/" + upper + "\n");
  EXPECT_EQ(container_id(cgroup.path(), missing_path()), std::nullopt);
}

TEST(ReadSmallFileTest, ReadsTheContent) {
  TempFile file("hello\nworld");
  EXPECT_EQ(read_small_file(file.path()), "hello\nworld");
  EXPECT_TRUE(file_exists(file.path()));
}

TEST(ReadSmallFileTest, AMissingFileIsNullopt) {
  EXPECT_EQ(read_small_file(missing_path()), std::nullopt);
  EXPECT_FALSE(file_exists(missing_path()));
}

TEST(ReadSmallFileTest, CapsTheContentAt64KiB) {
  TempFile file(std::string(kMaxBodyBytes + 100, 'x'));
  auto content = read_small_file(file.path());
  ASSERT_TRUE(content.has_value());
  EXPECT_EQ(content->size(), kMaxBodyBytes);
}

TEST(EnvironmentTest, BlankValuesAreUnset) {
  {
    ScopedEnv blank("XRAY_PLUGIN_SUPPORT_TEST_VAR", " \t");
    EXPECT_EQ(environment("XRAY_PLUGIN_SUPPORT_TEST_VAR"), std::nullopt);
  }
  {
    ScopedEnv set("XRAY_PLUGIN_SUPPORT_TEST_VAR", "value");
    EXPECT_EQ(environment("XRAY_PLUGIN_SUPPORT_TEST_VAR"), "value");
  }
  EXPECT_EQ(environment("XRAY_PLUGIN_SUPPORT_TEST_VAR"), std::nullopt);
}

TEST(EnvironmentTest, ThreadScopesNestShadowAndStayOnTheirThread) {
  ScopedEnv outer("XRAY_PLUGIN_SUPPORT_TEST_VAR", "outer");
  {
    ScopedEnv inner("XRAY_PLUGIN_SUPPORT_TEST_VAR", nullptr);  // unset over a set value
    ScopedEnv other("XRAY_PLUGIN_SUPPORT_TEST_OTHER", "other");
    EXPECT_EQ(environment("XRAY_PLUGIN_SUPPORT_TEST_VAR"), std::nullopt);
    EXPECT_EQ(environment("XRAY_PLUGIN_SUPPORT_TEST_OTHER"), "other");
  }
  EXPECT_EQ(environment("XRAY_PLUGIN_SUPPORT_TEST_VAR"), "outer");
  EXPECT_EQ(environment("XRAY_PLUGIN_SUPPORT_TEST_OTHER"), std::nullopt);
  EXPECT_EQ(::getenv("XRAY_PLUGIN_SUPPORT_TEST_VAR"), nullptr);  // the process never saw it
  std::optional<std::string> elsewhere = std::string("not read");
  std::thread([&] { elsewhere = environment("XRAY_PLUGIN_SUPPORT_TEST_VAR"); }).join();
  EXPECT_EQ(elsewhere, std::nullopt);
  // A whole environment replaces the process's for the thread, as the recorder's during detection.
  xray::detail::ThreadEnvironment injected(
      [](const char* name) { return std::string(name) == "HOME" ? "/injected" : nullptr; });
  EXPECT_EQ(environment("HOME"), "/injected");
  EXPECT_EQ(environment("PATH"), std::nullopt);
}

TEST(StringFieldTest, OnlyStrings) {
  json object = {{"a", "text"}, {"b", 42}, {"c", nullptr}};
  EXPECT_EQ(string_field(object, "a"), "text");
  EXPECT_EQ(string_field(object, "b"), "");
  EXPECT_EQ(string_field(object, "c"), "");
  EXPECT_EQ(string_field(object, "d"), "");
}

TEST(GetJsonTest, ReturnsTheObjectAndSendsTheHeaders) {
  FakeHttpServer server([](const RecordedRequest& request) {
    if (request.target != "/doc" || request.header("X-Test") != "yes") return HttpReply(400);
    return HttpReply(200, {}, R"({"k":"v"})");
  });
  json body = get_json(server.base_url() + "/doc", {{"X-Test", "yes"}},
                       std::chrono::milliseconds(100), generous_deadline());
  EXPECT_EQ(body, json::parse(R"({"k":"v"})"));
}

TEST(GetJsonTest, FailuresThrowDetectionError) {
  FakeHttpServer server([](const RecordedRequest& request) {
    if (request.target == "/404") return HttpReply(404, {}, "{}");
    if (request.target == "/array") return HttpReply(200, {}, "[1]");
    if (request.target == "/invalid") return HttpReply(200, {}, "{");
    if (request.target == "/big") {
      return HttpReply(200, {}, "{\"k\":\"" + std::string(kMaxBodyBytes, 'x') + "\"}");
    }
    return HttpReply::close_at_once();
  });
  for (const char* path : {"/404", "/array", "/invalid", "/big", "/closed"}) {
    EXPECT_THROW(get_json(server.base_url() + path, {}, std::chrono::milliseconds(100),
                          generous_deadline()),
                 DetectionError)
        << path;
  }
  EXPECT_THROW(get_json("ftp://127.0.0.1/", {}, std::chrono::milliseconds(100),
                        generous_deadline()),
               DetectionError);
}

}  // namespace
}  // namespace xray::plugins::detail
