#pragma once
// Reading the upstream golden vectors (tests/fixtures/upstream, README there) and the
// deliberate-difference list (tests/fixtures/deliberate_differences/messaging.json).

#include <boost/json.hpp>
#include <tomodachi/envelope.hpp>
#include <tomodachi/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fixtures {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string fixtures_dir() {
  const char* dir = std::getenv("TOMODACHI_FIXTURES_DIR");
  return dir != nullptr ? dir : TOMODACHI_TEST_FIXTURES_DIR;
}

inline boost::json::object load(const std::string& relative_path) {
  return tomodachi::json::loads(read_file(fixtures_dir() + "/" + relative_path))
      .as_object();  // big ints exact
}

/// The build inputs of a fixture case: sender, topic, pinned uuid4 and time.
inline tomodachi::BuildContext build_context(const boost::json::object& input) {
  const auto& service = input.at("service").as_object();
  tomodachi::BuildContext context;
  if (!service.contains("name_absent") && !service.at("name").is_null()) {
    context.sender.name = std::string(service.at("name").as_string());
  }
  if (service.contains("uuid_absent")) {
    context.sender.message_uuid_prefix = "";
  } else if (service.at("uuid").is_null()) {
    context.sender.message_uuid_prefix = "None";  // Python formats a None uuid as "None"
  } else {
    context.sender.uuid = std::string(service.at("uuid").as_string());
  }
  context.topic = std::string(input.at("topic").as_string());
  context.uuid4 = std::string(input.at("pinned_uuid4").as_string());
  context.time = input.at("pinned_time").to_number<double>();
  return context;
}

struct Case {
  std::string id;
  boost::json::object data;
};

inline void PrintTo(const Case& c, std::ostream* out) { *out << c.id; }

/// The cases of `file` (e.g. `upstream/json_base.json`) of one kind.
inline std::vector<Case> cases(const std::string& file, const std::string& kind) {
  std::vector<Case> out;
  const boost::json::object fixture = load(file);
  for (const auto& c : fixture.at("cases").as_array()) {
    if (c.at("kind").as_string() == kind)
      out.push_back({std::string(c.at("id").as_string()), c.as_object()});
  }
  return out;
}

/// gtest-friendly name of a case id.
inline std::string test_name(const std::string& id) {
  std::string out;
  for (char c : id) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

/// The deliberate difference recorded for (file, id), or null.
inline boost::json::object deliberate_difference(const std::string& file, const std::string& id) {
  const boost::json::object list = load("deliberate_differences/messaging.json");
  for (const auto& entry : list.at("differences").as_array()) {
    if (entry.at("fixture").as_string() == file && entry.at("id").as_string() == id)
      return entry.as_object();
  }
  return {};
}

/// Expands the compact value tags of the README: `$gen`, `$float`. Other tags stay.
inline boost::json::value materialize(const boost::json::value& value) {
  if (value.is_object()) {
    const auto& object = value.as_object();
    if (object.contains("$gen")) {
      const std::string generator(object.at("$gen").as_string());
      if (generator == "repeat") {
        std::string unit(object.at("unit").as_string());
        std::string text;
        const auto count = object.at("count").to_number<std::size_t>();
        text.reserve(unit.size() * count);
        for (std::size_t i = 0; i < count; ++i) text += unit;
        return boost::json::string(text);
      }
      if (generator == "item_list") {
        boost::json::array items;
        const auto count = object.at("count").to_number<std::size_t>();
        for (std::size_t i = 1; i <= count; ++i) items.emplace_back("item " + std::to_string(i));
        return items;
      }
      if (generator == "dict_with_repeat") {
        std::string unit(object.at("unit").as_string());
        std::string text;
        const auto count = object.at("count").to_number<std::size_t>();
        for (std::size_t i = 0; i < count; ++i) text += unit;
        return boost::json::object{{object.at("key").as_string(), text}};
      }
      throw std::runtime_error("unknown $gen " + generator);
    }
    if (object.contains("$float") && object.size() == 1) {
      const std::string name(object.at("$float").as_string());
      if (name == "NaN") return std::numeric_limits<double>::quiet_NaN();
      if (name == "Infinity") return std::numeric_limits<double>::infinity();
      return -std::numeric_limits<double>::infinity();
    }
    boost::json::object out;
    for (const auto& [key, item] : object) out[key] = materialize(item);
    return out;
  }
  if (value.is_array()) {
    boost::json::array out;
    for (const auto& item : value.as_array()) out.push_back(materialize(item));
    return out;
  }
  return value;
}

/// Semantic equality of JSON values as Python compares them, except that ints and floats
/// must keep their kind and NaN equals NaN (the fixtures' `$float` tags).
inline bool same(const boost::json::value& a, const boost::json::value& b) {
  const bool a_int = a.is_int64() || a.is_uint64();
  const bool b_int = b.is_int64() || b.is_uint64();
  if (a_int && b_int) {
    if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
    if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
    const auto& signed_value = a.is_int64() ? a : b;
    const auto& unsigned_value = a.is_int64() ? b : a;
    return signed_value.get_int64() >= 0 &&
           static_cast<std::uint64_t>(signed_value.get_int64()) == unsigned_value.get_uint64();
  }
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double();
    const double y = b.get_double();
    if (std::isnan(x) && std::isnan(y)) return true;
    return x == y && std::signbit(x) == std::signbit(y);
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto& x = a.as_array();
    const auto& y = b.as_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!same(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto& x = a.as_object();
    const auto& y = b.as_object();
    if (x.size() != y.size()) return false;
    for (const auto& [key, item] : x) {
      const auto it = y.find(key);
      if (it == y.end() || !same(item, it->value())) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace fixtures
