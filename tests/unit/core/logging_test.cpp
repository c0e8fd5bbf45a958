#include <tomodachi/logging.hpp>

#include <gtest/gtest.h>
#include <boost/json.hpp>

using namespace tomodachi;

namespace {
LogRecord record(std::string_view logger, std::optional<std::string_view> message, LogFields fields,
                 LogLevel level = LogLevel::info) {
  // 2023-08-13T17:44:09.176295Z
  const auto time =
      std::chrono::system_clock::time_point(std::chrono::microseconds(1691948649176295));
  return LogRecord{time, level, logger, message, std::move(fields)};
}
}  // namespace

TEST(LogFormat, ConsoleLineAsUpstream) {
  EXPECT_EQ(format_log_record(record("tomodachi.test.console_logger",
                                     "log msg from tomodachi.logging module", {{"value", "test"}}),
                              LogFormat::console),
            "2023-08-13T17:44:09.176295Z [info     ] log msg from tomodachi.logging module "
            "[tomodachi.test.console_logger] value=test");
  EXPECT_EQ(format_log_record(
                record("tomodachi.test.console_logger", "log msg from python logging module",
                       {{"extra", boost::json::object{{"value", "test"}}}}),
                LogFormat::console),
            "2023-08-13T17:44:09.176295Z [info     ] log msg from python logging module "
            "[tomodachi.test.console_logger] extra={'value': 'test'}");
  EXPECT_EQ(format_log_record(record("tomodachi.lifecycle", "stopping service",
                                     {{"state", "stopping"}}, LogLevel::warning),
                              LogFormat::console),
            "2023-08-13T17:44:09.176295Z [warning  ] stopping service               "
            "[tomodachi.lifecycle] "
            "state=stopping");
  EXPECT_EQ(
      format_log_record(record("x", "m", {{"tb_location", "./a.cpp:1"}, {"n", 1}, {"ok", true}}),
                        LogFormat::console),
      "2023-08-13T17:44:09.176295Z [info     ] m                              [x] "
      "tb_location=<./a.cpp:1> n=1 "
      "ok=True");
}

TEST(LogFormat, JsonRecordsAsUpstream) {
  EXPECT_EQ(
      format_log_record(record("default", "info message", {}), LogFormat::json),
      R"({"timestamp": "2023-08-13T17:44:09.176295Z", "logger": "default", "level": "info", "message": "info message"})");
  EXPECT_EQ(
      format_log_record(
          record("tomodachi.test.logger", std::nullopt, {{"x", 4711}, {"y", 1338}, {"a", 9001}}),
          LogFormat::json),
      R"({"timestamp": "2023-08-13T17:44:09.176295Z", "logger": "tomodachi.test.logger", "level": "info", "x": 4711, "y": 1338, "a": 9001})");
  EXPECT_EQ(
      format_log_record(record("l", "", {{"event_", "e"}, {"class_", "c"}}), LogFormat::json),
      R"({"timestamp": "2023-08-13T17:44:09.176295Z", "logger": "l", "level": "info", "message": "", "event": "e", "class": "c"})");
}

TEST(Logger, BindUnbindAndOverride) {
  std::vector<std::string> lines;
  configure_logging(LogFormat::disabled, LogLevel::debug);
  const int sink = add_log_sink(
      [&](const LogRecord& r) { lines.push_back(format_log_record(r, LogFormat::json)); });
  const Logger logger = get_logger("tomodachi.test.logger").bind({{"x", 4711}, {"y", 1338}});
  logger.log(LogLevel::info, std::nullopt, {{"a", 9001}});
  logger.unbind({"x"}).info("m", {{"y", 1}});
  logger.new_context({{"z", 0}}).warning("w");  // a literal 0 is a number, not a null string
  remove_log_sink(sink);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find(R"("x": 4711, "y": 1338, "a": 9001})"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(R"("message": "m", "y": 1})"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find(R"("level": "warning", "message": "w", "z": 0})"), std::string::npos)
      << lines[2];
}

TEST(Logger, ExceptionFields) {
  std::vector<std::string> lines;
  configure_logging(LogFormat::disabled, LogLevel::info);
  const int sink = add_log_sink(
      [&](const LogRecord& r) { lines.push_back(format_log_record(r, LogFormat::json)); });
  try {
    throw std::runtime_error("test exception");
  } catch (...) {
    log_uncaught_exception(std::current_exception());
  }
  remove_log_sink(sink);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(
      lines[0].find(
          R"x("logger": "exception", "level": "error", "message": "uncaught exception: test exception", "exception": "runtime_error('test exception')", "exc_type": "runtime_error", "exc_message": "test exception"})x"),
      std::string::npos)
      << lines[0];
}

TEST(LogLevel, ParsesCliNames) {
  EXPECT_EQ(parse_log_level("WARN"), LogLevel::warning);
  EXPECT_EQ(parse_log_level("fatal"), LogLevel::critical);
  EXPECT_EQ(parse_log_level("Debug"), LogLevel::debug);
  EXPECT_FALSE(parse_log_level("foo").has_value());
}
