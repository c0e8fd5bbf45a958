// Structured logging: console / json / python / disabled formats of spec/cli.md §6.
#include "telemetry/tracer.hpp"

#include <tomodachi/json.hpp>
#include <tomodachi/logging.hpp>

#include <boost/json/string.hpp>

#include <cxxabi.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>
#include <system_error>
#include <typeinfo>

namespace tomodachi {
namespace {

struct SinkEntry {
  int id;
  LogSink sink;
};

struct LoggingState {
  std::atomic<LogFormat> format{LogFormat::console};
  std::atomic<int> level{static_cast<int>(LogLevel::info)};
  std::atomic<bool> colors{false};
  std::mutex sinks_mutex;
  std::vector<SinkEntry> sinks;
  std::atomic<int> sink_count{0};
  int next_sink_id = 1;
};

LoggingState& state() {
  static LoggingState* instance = new LoggingState();  // never destroyed: logs may run at exit
  return *instance;
}

bool env_is_true(const char* name) {
  const char* value = std::getenv(name);
  if (!value) return false;
  std::string v(value);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "1" || v == "true";
}

bool env_is_false(const char* name) {
  const char* value = std::getenv(name);
  if (!value) return false;
  std::string v(value);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "0" || v == "false";
}

bool colors_wanted() {
  for (const char* name : {"NO_COLOR", "NOCOLOR", "TOMODACHI_NO_COLOR", "TOMODACHI_NOCOLOR"}) {
    if (env_is_true(name)) return false;
  }
  for (const char* name : {"CLICOLOR", "CLI_COLOR", "CLICOLOR_FORCE"}) {
    if (env_is_false(name)) return false;
  }
  return isatty(STDERR_FILENO) == 1;
}

}  // namespace

std::string iso8601_utc(std::chrono::system_clock::time_point time) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(micros % 1000000));
  return buffer;
}

namespace {

bool is_location_key(std::string_view key) {
  return key == "tb_location" || key == "error_location" || key == "tb_filename" ||
         key == "co_filename" || key == "co_location" || key == "error_filename";
}

void append_console_value(std::string& out, std::string_view key, const boost::json::value& value) {
  std::string text;
  if (value.is_string()) {
    text.assign(value.get_string().data(), value.get_string().size());
  } else {
    text = json::python_repr(value);
  }
  if (is_location_key(key)) {
    out += '<';
    out += text;
    out += '>';
  } else {
    out += text;
  }
}

const char* level_color(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "\x1b[32m";
    case LogLevel::info:
      return "\x1b[32m";
    case LogLevel::warning:
      return "\x1b[33m";
    case LogLevel::error:
      return "\x1b[31m";
    case LogLevel::critical:
      return "\x1b[31;1m";
  }
  return "";
}

std::string format_console(const LogRecord& record, bool colors) {
  const char* dim = colors ? "\x1b[2m" : "";
  const char* bright = colors ? "\x1b[1m" : "";
  const char* reset = colors ? "\x1b[0m" : "";
  const char* blue = colors ? "\x1b[34m" : "";
  const char* cyan = colors ? "\x1b[36m" : "";
  const char* magenta = colors ? "\x1b[35m" : "";
  std::string out;
  out.reserve(128);
  out += dim;
  out += iso8601_utc(record.time);
  out += reset;
  out += " [";
  if (colors) out += level_color(record.level);
  const std::string_view level = to_string(record.level);
  out += level;
  if (colors) out += reset;
  out.append(9 - std::min<std::size_t>(9, level.size()), ' ');
  out += "] ";
  const std::string_view message = record.message.value_or("");
  out += bright;
  out += message;
  out += reset;
  out.append(30 - std::min<std::size_t>(30, message.size()), ' ');
  out += " [";
  out += blue;
  out += record.logger;
  out += reset;
  out += "]";
  for (const auto& field : record.fields) {
    out += ' ';
    out += cyan;
    out += field.key;
    out += reset;
    out += '=';
    out += magenta;
    append_console_value(out, field.key, field.value);
    out += reset;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string format_json(const LogRecord& record) {
  std::string out;
  out.reserve(192);
  out += "{\"timestamp\": \"";
  out += iso8601_utc(record.time);
  out += "\", \"logger\": ";
  json::dumps_to(out, boost::json::string(record.logger));
  out += ", \"level\": \"";
  out += to_string(record.level);
  out += '"';
  if (record.message) {
    out += ", \"message\": ";
    json::dumps_to(out, boost::json::string(*record.message));
  }
  for (const auto& field : record.fields) {
    out += ", ";
    std::string_view key = field.key;
    if (key == "event_") key = "event";
    if (key == "class_") key = "class";
    json::dumps_to(out, boost::json::string(key));
    out += ": ";
    json::dumps_to(out, field.value);
  }
  out += '}';
  return out;
}

std::string format_python(const LogRecord& record) {
  std::string out = iso8601_utc(record.time);
  out += " [";
  const std::string_view level = to_string(record.level);
  out += level;
  out.append(9 - std::min<std::size_t>(9, level.size()), ' ');
  out += "] ";
  const std::string_view message = record.message.value_or("");
  out += message;
  out.append(30 - std::min<std::size_t>(30, message.size()), ' ');
  out += " [";
  out += record.logger;
  out += ']';
  return out;
}

void write_line_to_stderr(std::string line) {
  line += '\n';
  const char* data = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t written = ::write(STDERR_FILENO, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      return;  // stderr gone: nothing sensible left to do with a log record
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
}

LogFields merge_fields(const LogFields& context, LogFields fields) {
  if (context.empty()) return fields;
  LogFields merged = context;
  for (auto& field : fields) {
    auto existing = std::find_if(merged.begin(), merged.end(),
                                 [&](const LogField& f) { return f.key == field.key; });
    if (existing != merged.end()) {
      existing->value = std::move(field.value);
    } else {
      merged.push_back(std::move(field));
    }
  }
  return merged;
}

std::string demangle(const char* name) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string result = (status == 0 && demangled) ? demangled : name;
  std::free(demangled);
  return result;
}

}  // namespace

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
    case LogLevel::critical:
      return "critical";
  }
  return "info";
}

std::optional<LogLevel> parse_log_level(std::string_view name) noexcept {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower == "debug") return LogLevel::debug;
  if (lower == "info") return LogLevel::info;
  if (lower == "warning" || lower == "warn") return LogLevel::warning;
  if (lower == "error") return LogLevel::error;
  if (lower == "critical" || lower == "fatal") return LogLevel::critical;
  return std::nullopt;
}

Logger::Logger() : name_("default") {}

Logger::Logger(std::string name, LogFields context)
    : name_(name.empty() ? std::string("default") : std::move(name)),
      context_(std::move(context)) {}

Logger Logger::bind(LogFields fields) const {
  return Logger(name_, merge_fields(context_, std::move(fields)));
}

Logger Logger::unbind(std::initializer_list<std::string_view> keys) const {
  LogFields remaining;
  for (const auto& field : context_) {
    if (std::find(keys.begin(), keys.end(), field.key) == keys.end()) remaining.push_back(field);
  }
  return Logger(name_, std::move(remaining));
}

Logger Logger::new_context(LogFields fields) const { return Logger(name_, std::move(fields)); }

Logger Logger::renamed(std::string name) const { return Logger(std::move(name), context_); }

bool Logger::enabled(LogLevel level) const noexcept {
  return static_cast<int>(level) >= state().level.load(std::memory_order_relaxed) &&
         (state().format.load(std::memory_order_relaxed) != LogFormat::disabled ||
          state().sink_count.load(std::memory_order_relaxed) > 0);
}

void Logger::log(LogLevel level, std::optional<std::string_view> message, LogFields fields) const {
  auto& s = state();
  const LogFormat format = s.format.load(std::memory_order_relaxed);
  const bool level_enabled = static_cast<int>(level) >= s.level.load(std::memory_order_relaxed);
  const bool has_sinks = s.sink_count.load(std::memory_order_relaxed) > 0;
  if (!level_enabled && !has_sinks) return;
  if (format == LogFormat::disabled && !has_sinks) return;
  LogRecord record{std::chrono::system_clock::now(), level, name_, message,
                   merge_fields(context_, std::move(fields))};
  if (telemetry::tracer() != nullptr) {  // off: this one check
    for (auto& [key, value] : telemetry::current_trace_log_fields())
      record.fields.push_back({std::move(key), boost::json::string(value)});
  }
  if (level_enabled && format != LogFormat::disabled) {
    write_line_to_stderr(
        format_log_record(record, format, s.colors.load(std::memory_order_relaxed)));
  }
  if (has_sinks) {
    std::vector<LogSink> sinks;
    {
      std::lock_guard lock(s.sinks_mutex);
      for (const auto& entry : s.sinks) sinks.push_back(entry.sink);
    }
    for (const auto& sink : sinks) sink(record);
  }
}

void Logger::exception(std::string_view message, std::exception_ptr error, LogFields fields) const {
  const std::string type = exception_type_name(error);
  const std::string text = describe_exception(error);
  std::string short_type = type;
  if (auto colon = short_type.rfind("::"); colon != std::string::npos)
    short_type = short_type.substr(colon + 2);
  std::string repr = short_type + "(" + json::python_repr(boost::json::string(text)) + ")";
  fields.push_back({"exception", boost::json::string(repr)});
  fields.push_back({"exc_type", boost::json::string(short_type)});
  fields.push_back({"exc_message", boost::json::string(text)});
  log(LogLevel::error, message, std::move(fields));
}

Logger get_logger(std::string_view name) { return Logger(std::string(name)); }

std::string describe_exception(std::exception_ptr error) {
  if (!error) return "";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception (" + exception_type_name(error) + ")";
  }
}

std::string exception_type_name(std::exception_ptr error) {
  if (!error) return "";
  try {
    std::rethrow_exception(error);
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return type ? demangle(type->name()) : std::string("unknown");
  }
}

void log_uncaught_exception(std::exception_ptr error, LogFields fields) {
  get_logger("exception")
      .exception("uncaught exception: " + describe_exception(error), error, std::move(fields));
}

void configure_logging(LogFormat format, LogLevel level) {
  auto& s = state();
  s.format.store(format);
  s.level.store(static_cast<int>(level));
  s.colors.store(format == LogFormat::console && colors_wanted());
}

LogFormat log_format() noexcept { return state().format.load(); }
LogLevel log_level() noexcept { return static_cast<LogLevel>(state().level.load()); }

int add_log_sink(LogSink sink) {
  auto& s = state();
  std::lock_guard lock(s.sinks_mutex);
  const int id = s.next_sink_id++;
  s.sinks.push_back({id, std::move(sink)});
  s.sink_count.store(static_cast<int>(s.sinks.size()));
  return id;
}

void remove_log_sink(int id) {
  auto& s = state();
  std::lock_guard lock(s.sinks_mutex);
  s.sinks.erase(std::remove_if(s.sinks.begin(), s.sinks.end(),
                               [id](const SinkEntry& e) { return e.id == id; }),
                s.sinks.end());
  s.sink_count.store(static_cast<int>(s.sinks.size()));
}

int add_json_file_sink(const std::filesystem::path& path,
                       std::function<bool(const LogRecord&)> filter) {
  auto file = std::make_shared<std::ofstream>(path, std::ios::app);
  if (!*file) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot open log file '" + path.string() + "'");
  }
  auto mutex = std::make_shared<std::mutex>();
  return add_log_sink([file, mutex, filter = std::move(filter)](const LogRecord& record) {
    if (filter && !filter(record)) return;
    std::string line = format_json(record);
    line += '\n';
    std::lock_guard lock(*mutex);
    *file << line;
    file->flush();
  });
}

std::string format_log_record(const LogRecord& record, LogFormat format, bool colors) {
  switch (format) {
    case LogFormat::console:
      return format_console(record, colors);
    case LogFormat::json:
      return format_json(record);
    case LogFormat::python:
      return format_python(record);
    case LogFormat::disabled:
      return {};
  }
  return {};
}

}  // namespace tomodachi
