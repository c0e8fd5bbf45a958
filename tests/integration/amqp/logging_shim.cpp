// TEMPORARY: the core logger is not on main yet. Minimal definitions so the integration
// test links; remove once main has src/core/logging.cpp.
#include <tomodachi/json.hpp>
#include <tomodachi/logging.hpp>

#include <iostream>
#include <mutex>

namespace tomodachi {

Logger::Logger(std::string name, LogFields context) : name_(std::move(name)), context_(std::move(context)) {}

void Logger::log(LogLevel level, std::optional<std::string_view> message, LogFields fields) const {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::cerr << "[" << static_cast<int>(level) << "] " << name_ << ": " << message.value_or("");
  for (const auto& field : fields) std::cerr << " " << field.key << "=" << json::dumps(field.value);
  std::cerr << std::endl;
}

std::string describe_exception(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace tomodachi
