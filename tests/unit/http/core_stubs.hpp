#pragma once
// TEMPORARY test access to the stand-ins of core_stubs.cpp (see there).
#include <tomodachi/logging.hpp>
#include <tomodachi/transport.hpp>

#include <string>
#include <vector>

namespace tomodachi::test_stubs {
struct CapturedRecord {
  std::string logger;
  std::string message;
  LogLevel level;
  LogFields fields;
};
std::vector<CapturedRecord> captured();
void clear_captured();
TransportFactory transport_factory(const std::string& kind);
}  // namespace tomodachi::test_stubs
