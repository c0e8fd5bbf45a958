#pragma once
/// @file
/// Structured logging with the record names, fields and formats of Python tomodachi
/// (`console`, `json`, `python`, `disabled`), so log pipelines built for Python
/// services keep working. Records go to stderr.

#include <boost/json/value.hpp>

#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace tomodachi {

/// Severity of a record; names print lower-case (`info`, `warning`, ...).
enum class LogLevel : int { debug = 10, info = 20, warning = 30, error = 40, critical = 50 };

/// `debug`, `info`, `warning`, `error`, `critical`.
std::string_view to_string(LogLevel level) noexcept;

/// Parses a level name as the CLI accepts it (case-insensitive; `warn` and `fatal`
/// are aliases). Returns nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view name) noexcept;

/// Output format of all records (`--logger`).
enum class LogFormat { console, json, python, disabled };

namespace detail {
/// Converts what a log call passes as a field value: numbers, bools and null as JSON
/// scalars, anything string-like as a JSON string, JSON values as they are.
template <typename T>
boost::json::value log_value(T&& value) {
  using Value = std::remove_cvref_t<T>;
  if constexpr (std::is_arithmetic_v<Value> || std::is_null_pointer_v<Value>) {
    return boost::json::value(value);
  } else if constexpr (std::is_pointer_v<Value> && std::is_convertible_v<Value, const char*>) {
    return boost::json::value(value ? static_cast<const char*>(value) : "");
  } else if constexpr (std::is_convertible_v<const Value&, std::string_view> &&
                       !std::is_same_v<Value, boost::json::value>) {
    const std::string_view text = value;
    return boost::json::value(boost::json::string_view(text.data(), text.size()));
  } else {
    return boost::json::value(std::forward<T>(value));
  }
}
}  // namespace detail

/// One key/value of a record. Values are JSON values: strings print raw on the
/// console, everything else in Python repr form; `json` prints them as JSON.
struct LogField {
  template <typename T>
  LogField(std::string field_key, T&& field_value)
      : key(std::move(field_key)), value(detail::log_value(std::forward<T>(field_value))) {}

  std::string key;
  boost::json::value value;
};
using LogFields = std::vector<LogField>;

/// A record as sinks see it; `context` fields come first, then the call's fields
/// (a call field replaces a context field of the same key in place).
struct LogRecord {
  std::chrono::system_clock::time_point time;
  LogLevel level;
  std::string_view logger;
  std::optional<std::string_view> message;
  LogFields fields;
};

/// A named logger with bound context fields. Cheap to copy; `bind` returns a new
/// logger and leaves this one unchanged. Thread-safe.
class Logger {
 public:
  /// The `default` logger.
  Logger();
  explicit Logger(std::string name, LogFields context = {});

  const std::string& name() const noexcept { return name_; }
  const LogFields& context() const noexcept { return context_; }

  /// A logger with `fields` added to (or replacing values in) the context.
  Logger bind(LogFields fields) const;
  /// A logger without the given context keys (Python's `bind(key=...)` with the omit sentinel).
  Logger unbind(std::initializer_list<std::string_view> keys) const;
  /// A logger whose context is exactly `fields` (Python's `new(**kw)`).
  Logger new_context(LogFields fields) const;
  /// The same context under another logger name.
  Logger renamed(std::string name) const;

  /// True when a record of `level` would be written (use to skip costly fields).
  bool enabled(LogLevel level) const noexcept;

  /// Writes a record; a nullopt message writes a record without `message` key.
  void log(LogLevel level, std::optional<std::string_view> message, LogFields fields = {}) const;

  void debug(std::string_view message, LogFields fields = {}) const {
    log(LogLevel::debug, message, std::move(fields));
  }
  void info(std::string_view message, LogFields fields = {}) const {
    log(LogLevel::info, message, std::move(fields));
  }
  void warning(std::string_view message, LogFields fields = {}) const {
    log(LogLevel::warning, message, std::move(fields));
  }
  void error(std::string_view message, LogFields fields = {}) const {
    log(LogLevel::error, message, std::move(fields));
  }
  void critical(std::string_view message, LogFields fields = {}) const {
    log(LogLevel::critical, message, std::move(fields));
  }

  /// Error record for `error` with the fields `exception` (`Type('what')`),
  /// `exc_type` and `exc_message`, like Python's `logger.exception`.
  void exception(std::string_view message, std::exception_ptr error, LogFields fields = {}) const;

 private:
  std::string name_;
  LogFields context_;
};

/// A logger named `name` (`default` when empty).
Logger get_logger(std::string_view name = {});

/// Logs `uncaught exception: <what>` with logger `exception`, as upstream does for
/// errors escaping handlers and hooks.
void log_uncaught_exception(std::exception_ptr error, LogFields fields = {});

/// Text of an exception: `what()` for std::exception, else a description.
std::string describe_exception(std::exception_ptr error);

/// Type name of an exception (demangled), e.g. `std::runtime_error`.
std::string exception_type_name(std::exception_ptr error);

/// Global logging set-up, done by `tomodachi run` from its options.
void configure_logging(LogFormat format, LogLevel level);
LogFormat log_format() noexcept;
LogLevel log_level() noexcept;

/// An extra destination for records, e.g. the HTTP access-log file. Returns an id
/// for `remove_log_sink`. The sink is called on the thread that logs.
using LogSink = std::function<void(const LogRecord&)>;
int add_log_sink(LogSink sink);
void remove_log_sink(int id);

/// A sink writing records that pass `filter` as JSON lines (format `json`) to `path`.
/// Throws std::system_error naming the path when the file cannot be opened.
int add_json_file_sink(const std::filesystem::path& path,
                       std::function<bool(const LogRecord&)> filter = {});

/// `2023-08-13T17:44:09.176295Z`: UTC, microseconds, as every record's timestamp.
std::string iso8601_utc(std::chrono::system_clock::time_point time);

/// Renders a record in the given format (no trailing newline). Used by the sinks
/// and by tests.
std::string format_log_record(const LogRecord& record, LogFormat format, bool colors = false);

}  // namespace tomodachi
