// Self-check of tests/fixtures/deliberate_differences/aws.json: every listed case exists in
// its upstream fixture, has a reason, and our values really differ from upstream's (an
// entry that matches upstream would hide nothing and mislead docs/differences.md).

#include "fixture_support.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace json = boost::json;

namespace {

/// The fixtures, with integers beyond 64 bits kept exactly (tomodachi::json::loads).
json::value load(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return tomodachi::json::loads(text.str());
}

}  // namespace

TEST(DeliberateDifferences, EveryListedCaseExistsAndReallyDiffers) {
  const auto root = load(aws_test::fixtures_dir() + "/deliberate_differences/aws.json");
  const auto& entries = root.at("differences").as_array();
  ASSERT_FALSE(entries.empty());
  std::set<std::string> seen;
  for (const auto& item : entries) {
    const auto& entry = item.as_object();
    const std::string fixture(entry.at("fixture").as_string());
    const std::string id(entry.at("id").as_string());
    SCOPED_TRACE(fixture + "#" + id);
    EXPECT_TRUE(seen.insert(fixture + "#" + id).second) << "listed twice";
    EXPECT_FALSE(entry.at("reason").as_string().empty());
    EXPECT_TRUE(fixture.starts_with("upstream/"));
    std::optional<json::object> found;
    const auto cases = load(aws_test::fixtures_dir() + "/" + fixture);
    for (const auto& test_case : cases.at("cases").as_array()) {
      if (test_case.at("id").as_string() == id) found = test_case.as_object();
    }
    EXPECT_TRUE(found) << "no such case in " << fixture;
    if (!found) continue;
    const auto& expected = found->at("expected").as_object();
    const auto& ours = entry.at("ours").as_object();
    EXPECT_FALSE(ours.empty());
    std::size_t differing = 0;
    for (const auto& [key, value] : ours) {
      const auto* upstream = expected.if_contains(key);
      if (value.is_null()) {
        EXPECT_NE(upstream, nullptr) << key << ": null drops a value upstream does not have";
        ++differing;
      } else if (upstream == nullptr || !aws_test::same_json(*upstream, value)) {
        ++differing;
      }
    }
    EXPECT_GT(differing, 0u) << "every value equals upstream's";
  }
}
