#include "core/config.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>

using tomodachi::detail::ConfigError;
using tomodachi::detail::merge_config;
using tomodachi::detail::parse_config_files;

TEST(Config, MergeRuleOfUpstream) {
  const auto left =
      boost::json::parse(R"({"number_list": [1,3,5], "dict": {"a": true}, "replace_value": 100})");
  const auto right =
      boost::json::parse(R"({"number_list": [2,10], "dict": {"b": 10}, "replace_value": 200})");
  EXPECT_EQ(
      merge_config(left, right),
      boost::json::parse(
          R"({"number_list": [1,3,5,2,10], "dict": {"a": true, "b": 10}, "replace_value": 200})"));
  // A falsy left value takes the right one.
  EXPECT_EQ(merge_config(boost::json::parse(R"({"a": 0, "b": ""})"),
                         boost::json::parse(R"({"a": 5, "b": "x"})")),
            boost::json::parse(R"({"a": 5, "b": "x"})"));
}

TEST(Config, ParsesTheUpstreamFixtureFile) {
  const std::string path = testing::TempDir() + "/config_file.json";
  std::ofstream(path)
      << R"({"options": {"http": {"port": 4711, "access_log": true}}, "uuid": "21a24416-1427-4603-c7c9-0ff8ab1f1c20"})";
  const auto config = parse_config_files({path});
  EXPECT_EQ(
      boost::json::value(config),
      boost::json::parse(
          R"({"options": {"http": {"port": 4711, "access_log": true}}, "uuid": "21a24416-1427-4603-c7c9-0ff8ab1f1c20"})"));
  EXPECT_TRUE(parse_config_files({}).empty());
}

TEST(Config, ErrorsUseTheCliTexts) {
  try {
    parse_config_files({"/nonexistent/config.json"});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("Invalid config file: ", 0), 0u) << e.what();
  }
  const std::string path = testing::TempDir() + "/invalid.json";
  std::ofstream(path) << "{ options }";
  try {
    parse_config_files({path});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("Invalid config file, invalid JSON format: ", 0), 0u)
        << e.what();
  }
}
