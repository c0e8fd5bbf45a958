#pragma once
// `-c` JSON config files (spec/service.md §2.3).

#include <tomodachi/error.hpp>

#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace tomodachi::detail {

/// A config file that cannot be read or parsed; what() is the CLI's message
/// (`Invalid config file: ...` / `Invalid config file, invalid JSON format: ...`).
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// Upstream's merge rule: a key missing or falsy on the left takes the right value;
/// two lists concatenate; two objects merge recursively; else the right value wins.
boost::json::value merge_config(const boost::json::value& left, const boost::json::value& right);

/// Reads and merges the files left to right. Throws ConfigError.
boost::json::object parse_config_files(const std::vector<std::string>& paths);

}  // namespace tomodachi::detail
