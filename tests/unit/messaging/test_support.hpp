#pragma once
// Helpers for the messaging unit tests: a log capture and a minimal service.

#include <tomodachi/logging.hpp>
#include <tomodachi/service.hpp>

#include <string>
#include <vector>

namespace messaging_test {

/// Collects the records logged while it lives.
class LogCapture {
 public:
  struct Entry {
    tomodachi::LogLevel level;
    std::string logger;
    std::string message;
    tomodachi::LogFields fields;

    const boost::json::value* field(std::string_view key) const {
      for (const auto& f : fields) {
        if (f.key == key) return &f.value;
      }
      return nullptr;
    }
  };

  LogCapture()
      : id_(tomodachi::add_log_sink([this](const tomodachi::LogRecord& record) {
          entries.push_back({record.level, std::string(record.logger),
                             record.message ? std::string(*record.message) : std::string(),
                             record.fields});
        })) {}
  ~LogCapture() { tomodachi::remove_log_sink(id_); }

  /// Entries whose message starts with `prefix`.
  std::vector<Entry> with_message(std::string_view prefix) const {
    std::vector<Entry> out;
    for (const auto& e : entries) {
      if (std::string_view(e.message).substr(0, prefix.size()) == prefix) out.push_back(e);
    }
    return out;
  }

  std::vector<Entry> entries;

 private:
  int id_;
};

class TestService : public tomodachi::Service {
 public:
  explicit TestService(std::string name = "test-service") : Service(std::move(name)) {
    set_uuid("6d8b4a51-0f1e-4c59-9a55-7e3b3a1d2f00");
  }
};

}  // namespace messaging_test
