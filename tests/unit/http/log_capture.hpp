#pragma once
// Captures log records (through a log sink) for assertions, and finds registered transports.

#include "core/transports.hpp"

#include <tomodachi/logging.hpp>

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

namespace tomodachi::test_stubs {

struct CapturedRecord {
  std::string logger;
  std::string message;
  LogLevel level;
  LogFields fields;
};

struct Capture {
  std::mutex mutex;
  std::vector<CapturedRecord> records;
  Capture() {
    add_log_sink([this](const LogRecord& record) {
      std::lock_guard lock(mutex);
      records.push_back({std::string(record.logger),
                         record.message ? std::string(*record.message) : std::string(),
                         record.level, record.fields});
    });
  }
};

inline Capture& capture() {
  static Capture* instance = new Capture();
  return *instance;
}

inline std::vector<CapturedRecord> captured() {
  auto& c = capture();
  std::lock_guard lock(c.mutex);
  return c.records;
}

inline void clear_captured() {
  auto& c = capture();
  std::lock_guard lock(c.mutex);
  c.records.clear();
}

/// Every test starts with no records: records of an earlier test (of a server it stopped,
/// a connection it closed) are not seen by the next when the binary runs whole.
struct ClearCapturedEachTest : ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo&) override { clear_captured(); }
};

inline const bool capture_cleared_each_test = [] {
  capture();
  ::testing::UnitTest::GetInstance()->listeners().Append(new ClearCapturedEachTest);
  return true;
}();

inline TransportFactory transport_factory(const std::string& kind) {
  return *detail::find_transport(kind);
}

}  // namespace tomodachi::test_stubs
