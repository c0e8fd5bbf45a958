#pragma once
// Loading the golden fixtures of tests/fixtures/upstream and the aws deliberate-difference
// list (tests/fixtures/deliberate_differences/aws.json).

#include <tomodachi/json.hpp>

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace aws_test {

inline std::string fixtures_dir() {
  const char* dir = std::getenv("TOMODACHI_FIXTURES_DIR");
  return dir != nullptr ? dir : "tests/fixtures";
}

inline boost::json::value load_json(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open " + path);
  std::stringstream text;
  text << file.rdbuf();
  return tomodachi::json::loads(text.str());
}

/// Cases of one upstream fixture file, by kind (or all kinds when empty).
inline std::vector<boost::json::object> fixture_cases(const std::string& file, const std::string& kind = {}) {
  const auto root = load_json(fixtures_dir() + "/upstream/" + file);
  std::vector<boost::json::object> cases;
  for (const auto& item : root.at("cases").as_array()) {
    if (kind.empty() || item.at("kind").as_string() == kind) cases.push_back(item.as_object());
  }
  return cases;
}

/// Our expected result for fixture cases we differ on deliberately: "<file>#<id>" → expected.
inline const std::map<std::string, boost::json::object>& deliberate_differences() {
  static const auto differences = [] {
    std::map<std::string, boost::json::object> result;
    const auto root = load_json(fixtures_dir() + "/deliberate_differences/aws.json");
    for (const auto& item : root.at("cases").as_array()) {
      const auto& entry = item.as_object();
      result[std::string(entry.at("file").as_string()) + "#" + std::string(entry.at("id").as_string())] =
          entry.at("expected").as_object();
    }
    return result;
  }();
  return differences;
}

/// The expected block of a case: ours when the case is in the difference list.
inline boost::json::object expected_of(const std::string& file, const boost::json::object& test_case) {
  const auto& differences = deliberate_differences();
  const auto it = differences.find(file + "#" + std::string(test_case.at("id").as_string()));
  if (it != differences.end()) return it->second;
  return test_case.at("expected").as_object();
}

inline bool is_unset(const boost::json::value& value) {
  return value.is_object() && value.as_object().contains("$unset");
}

inline std::string string_or_empty(const boost::json::value* value) {
  if (value == nullptr || value->is_null() || is_unset(*value)) return {};
  return std::string(value->as_string());
}

inline std::string case_id(const boost::json::object& test_case) {
  return std::string(test_case.at("id").as_string());
}

}  // namespace aws_test
