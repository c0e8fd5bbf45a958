#pragma once
// The OTEL_* tests' environment: a map standing in for getenv, and the start-up error a set
// of variables gives ("" when it loads).
#include "telemetry/config.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace test_support {

inline tomodachi::telemetry::EnvLookup env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

inline std::string error_of(std::map<std::string, std::string> values) {
  try {
    tomodachi::telemetry::load_config(env(std::move(values)));
  } catch (const tomodachi::telemetry::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace test_support
