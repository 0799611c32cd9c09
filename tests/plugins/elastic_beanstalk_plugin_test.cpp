#include "xray/plugins.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "plugins/plugin_support.hpp"
#include "support/temp_file.hpp"

namespace xray {
namespace {

using json = nlohmann::json;
using plugins::detail::DetectionError;
using testing::missing_path;
using testing::TempFile;

const char* const kSpecFile =
    R"({"deployment_id":32,"version_label":"app-5a56-170119_190650-stage-170119_190650","environment_name":"scorekeep"})";

std::optional<PluginMetadata> detect_file(const std::string& path) {
  plugins::ElasticBeanstalkOptions options;
  options.config_path = path;
  return plugins::elastic_beanstalk(options)->detect(std::chrono::steady_clock::now() +
                                                     std::chrono::seconds(1));
}

TEST(ElasticBeanstalkPluginTest, NameIsElasticBeanstalkPlugin) {
  EXPECT_EQ(plugins::elastic_beanstalk()->name(), "ElasticBeanstalkPlugin");
}

TEST(ElasticBeanstalkPluginTest, TheSpecFileGivesExactlyTheThreeKeys) {
  TempFile file(kSpecFile);
  auto found = detect_file(file.path());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->origin, "AWS::ElasticBeanstalk::Environment");
  EXPECT_EQ(found->aws, json::parse(R"({"elastic_beanstalk":{"environment_name":"scorekeep",
      "version_label":"app-5a56-170119_190650-stage-170119_190650","deployment_id":32}})"));
  EXPECT_TRUE(found->aws["elastic_beanstalk"]["deployment_id"].is_number_integer());
}

TEST(ElasticBeanstalkPluginTest, OtherKeysInTheFileAreDropped) {
  json document = json::parse(kSpecFile);
  document["environment_id"] = "e-abcdef1234";
  document["xray_daemon"] = {{"port", 2000}};
  TempFile file(document.dump(2));
  auto found = detect_file(file.path());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws["elastic_beanstalk"].size(), 3u);
  EXPECT_FALSE(found->aws["elastic_beanstalk"].contains("environment_id"));
}

TEST(ElasticBeanstalkPluginTest, ADigitStringDeploymentIdBecomesANumber) {
  TempFile file(R"({"deployment_id":"32","version_label":"v1","environment_name":"scorekeep"})");
  auto found = detect_file(file.path());
  ASSERT_TRUE(found.has_value());
  const json& id = found->aws["elastic_beanstalk"]["deployment_id"];
  EXPECT_TRUE(id.is_number_integer());
  EXPECT_EQ(id, 32);
}

TEST(ElasticBeanstalkPluginTest, ANonNumericDeploymentIdIsLeftOut) {
  TempFile file(R"({"deployment_id":"abc","version_label":"v1","environment_name":"scorekeep"})");
  auto found = detect_file(file.path());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->aws, json::parse(R"({"elastic_beanstalk":{"environment_name":"scorekeep",
      "version_label":"v1"}})"));
}

TEST(ElasticBeanstalkPluginTest, AMissingFileMeansNotOnElasticBeanstalk) {
  EXPECT_FALSE(detect_file(missing_path()).has_value());
}

TEST(ElasticBeanstalkPluginTest, InvalidJsonFails) {
  TempFile file(R"({"deployment_id":32,"version_label":)");
  EXPECT_THROW(detect_file(file.path()), DetectionError);
}

TEST(ElasticBeanstalkPluginTest, ANonObjectFails) {
  TempFile file(R"(["scorekeep"])");
  EXPECT_THROW(detect_file(file.path()), DetectionError);
}

TEST(ElasticBeanstalkPluginTest, AnEmptyFileFails) {
  TempFile file("");
  EXPECT_THROW(detect_file(file.path()), DetectionError);
}

TEST(ElasticBeanstalkPluginTest, AnObjectWithNoneOfTheKeysFails) {
  TempFile file(R"({"environment":"scorekeep"})");
  EXPECT_THROW(detect_file(file.path()), DetectionError);
}

}  // namespace
}  // namespace xray
