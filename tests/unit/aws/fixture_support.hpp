#pragma once
// Loading the golden fixtures of tests/fixtures/upstream and the aws deliberate-difference
// list (tests/fixtures/deliberate_differences/aws.json).

#include <tomodachi/json.hpp>

#include <boost/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace aws_test {

inline std::string fixtures_dir() {
  const char* dir = std::getenv("TOMODACHI_FIXTURES_DIR");
  if (dir == nullptr)
    throw std::runtime_error("TOMODACHI_FIXTURES_DIR is not set (build/tests/test-environment)");
  return dir;
}

inline boost::json::value load_json(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open " + path);
  std::stringstream text;
  text << file.rdbuf();
  return tomodachi::json::loads(text.str());
}

/// Cases of one upstream fixture file, by kind (or all kinds when empty).
inline std::vector<boost::json::object> fixture_cases(const std::string& file,
                                                      const std::string& kind = {}) {
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
    for (const auto& item : root.at("differences").as_array()) {
      const auto& entry = item.as_object();
      std::string fixture(entry.at("fixture").as_string());
      if (fixture.starts_with("upstream/")) fixture.erase(0, 9);
      result[fixture + "#" + std::string(entry.at("id").as_string())] =
          entry.at("ours").as_object();
    }
    return result;
  }();
  return differences;
}

/// The expected block of a case, with our values merged over it when the case is in the
/// difference list.
inline boost::json::object expected_of(const std::string& file,
                                       const boost::json::object& test_case) {
  auto expected = test_case.at("expected").as_object();
  const auto& differences = deliberate_differences();
  const auto it = differences.find(file + "#" + std::string(test_case.at("id").as_string()));
  if (it != differences.end()) {
    for (const auto& [key, value] : it->second) {
      if (value.is_null()) {
        expected.erase(key);  // `"error": null` drops upstream's error
      } else {
        expected[key] = value;
      }
    }
  }
  return expected;
}

/// True when the case is in the difference list.
inline bool differs(const std::string& file, const boost::json::object& test_case) {
  return deliberate_differences().contains(file + "#" +
                                           std::string(test_case.at("id").as_string()));
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

namespace aws_test {

/// Fixture input value → C++ value: `{"$float": "NaN"}` etc. → double, `{"$decimal": "1.10"}`
/// → double (C++ has no Decimal), recursively.
inline boost::json::value untag(const boost::json::value& value) {
  if (const auto* object = value.if_object()) {
    if (object->size() == 1 && object->contains("$float")) {
      const auto& text = object->at("$float").as_string();
      if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
      return text == "Infinity" ? std::numeric_limits<double>::infinity()
                                : -std::numeric_limits<double>::infinity();
    }
    if (object->size() == 1 && object->contains("$decimal")) {
      return std::strtod(std::string(object->at("$decimal").as_string()).c_str(), nullptr);
    }
    boost::json::object out;
    for (const auto& [key, item] : *object) out[key] = untag(item);
    return out;
  }
  if (const auto* array = value.if_array()) {
    boost::json::array out;
    for (const auto& item : *array) out.push_back(untag(item));
    return out;
  }
  return value;
}

/// JSON equality where NaN equals NaN and int/float kinds must agree. Doubles may differ
/// by one ulp: the fixtures are read with tomodachi::json::loads, whose Boost.JSON fast
/// path is not correctly rounded for every literal (e.g. 1.1805916207174113e+21).
inline bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double(), y = b.get_double();
    return (std::isnan(x) && std::isnan(y)) || x == y || std::nextafter(x, y) == y;
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& [key, item] : x) {
      const auto* other = y.if_contains(key);
      if (other == nullptr || !same_json(item, *other)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!same_json(x[i], y[i])) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace aws_test
