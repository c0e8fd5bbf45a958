#pragma once
// Reads tests/fixtures/upstream/amqp_names.json (location from TOMODACHI_FIXTURES_DIR, set by
// ctest).

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace amqp_fixture {

inline boost::json::object load() {
  const char* dir = std::getenv("TOMODACHI_FIXTURES_DIR");
  const std::string root = dir ? dir : TOMODACHI_SOURCE_FIXTURES_DIR;
  std::ifstream file(root + "/upstream/amqp_names.json");
  if (!file) throw std::runtime_error("cannot open " + root + "/upstream/amqp_names.json");
  std::stringstream text;
  text << file.rdbuf();
  return boost::json::parse(text.str()).as_object();
}

inline std::vector<boost::json::object> cases(std::string_view kind) {
  static const boost::json::object fixture = load();
  std::vector<boost::json::object> out;
  for (const auto& c : fixture.at("cases").as_array()) {
    if (c.at("kind").as_string() == kind) out.push_back(c.as_object());
  }
  return out;
}

inline std::string str(const boost::json::value& v) { return std::string(v.as_string()); }

inline bool is_unset(const boost::json::value& v) {
  return v.is_object() && v.as_object().contains("$unset");
}

}  // namespace amqp_fixture
