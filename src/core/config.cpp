#include "core/config.hpp"

#include <tomodachi/json.hpp>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tomodachi::detail {
namespace {

bool is_falsy(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      return true;
    case boost::json::kind::bool_:
      return !value.get_bool();
    case boost::json::kind::int64:
      return value.get_int64() == 0;
    case boost::json::kind::uint64:
      return value.get_uint64() == 0;
    case boost::json::kind::double_:
      return value.get_double() == 0.0;
    case boost::json::kind::string:
      return value.get_string().empty();
    case boost::json::kind::array:
      return value.get_array().empty();
    case boost::json::kind::object:
      return value.get_object().empty();
  }
  return false;
}

}  // namespace

boost::json::value merge_config(const boost::json::value& left, const boost::json::value& right) {
  if (left.is_object() && right.is_object()) {
    boost::json::object merged = left.get_object();
    for (const auto& member : right.get_object()) {
      auto existing = merged.find(member.key());
      if (existing == merged.end() || is_falsy(existing->value())) {
        merged[member.key()] = member.value();
      } else {
        existing->value() = merge_config(existing->value(), member.value());
      }
    }
    return merged;
  }
  if (left.is_array() && right.is_array()) {
    boost::json::array merged = left.get_array();
    for (const auto& element : right.get_array()) merged.push_back(element);
    return merged;
  }
  return right;
}

boost::json::object parse_config_files(const std::vector<std::string>& paths) {
  boost::json::value merged = boost::json::object();
  for (const auto& path : paths) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      throw ConfigError("Invalid config file: [Errno " + std::to_string(errno) + "] " +
                        std::strerror(errno) + ": '" + path + "'");
    }
    std::stringstream content;
    content << file.rdbuf();
    boost::json::value parsed;
    try {
      parsed = json::loads(content.str());
    } catch (const std::exception& e) {
      throw ConfigError(std::string("Invalid config file, invalid JSON format: ") + e.what());
    }
    if (!parsed.is_object()) {
      throw ConfigError("Invalid config file, invalid JSON format: '" + path +
                        "' is not a JSON object");
    }
    merged = merge_config(merged, parsed);
  }
  return merged.get_object();
}

}  // namespace tomodachi::detail
