#include "cli/args.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>
#include <map>

using namespace tomodachi::cli;

namespace {

struct Env {
  std::map<std::string, std::string> values;
  std::function<const char*(const char*)> function() const {
    return [this](const char* name) -> const char* {
      auto it = values.find(name);
      return it == values.end() ? nullptr : it->second.c_str();
    };
  }
};

ParseResult parse(std::vector<std::string> args, const Env& env = {}) {
  return parse_command_line(args, env.function());
}

constexpr const char* help_hint =
    "use the '--help' option for cli usage help.\n$ tomodachi --help\n";

}  // namespace

TEST(CliArgs, HelpVersionAndNoArguments) {
  for (auto args : std::vector<std::vector<std::string>>{{}, {"-h"}, {"--help"}, {"run"}}) {
    const auto r = parse(args);
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.output.rfind("usage:\n  $ tomodachi run [options] <service.cpp ...>\n", 0), 0u);
  }
  for (auto flag : {"-v", "-V", "--version"}) {
    const auto r = parse({flag});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.output.rfind("tomodachi ", 0), 0u);
  }
  const auto deps = parse({"--deps"});
  EXPECT_EQ(deps.exit_code, 0);
  EXPECT_NE(deps.output.find("boost/1.81"), std::string::npos) << deps.output;
  EXPECT_NE(deps.output.find("librabbitmq/0.11"), std::string::npos) << deps.output;
}

TEST(CliArgs, UnknownOption) {
  const auto r = parse({"--invalid"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output, std::string("error: invalid command or combination of command options.\n"
                                  "error: option --invalid not recognized.\n\n---\n\n") +
                          help_hint);
}

TEST(CliArgs, SubcommandMissing) {
  auto r = parse({"invalidsubcommand"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output,
            std::string(
                "error: invalid command or combination of command options.\n"
                "error: the command 'run' must be specified before any service files or options.\n"
                "\n---\n\n") +
                help_hint);
  r = parse({"tests/services/auto_closing_service_sigterm.cpp"});
  EXPECT_EQ(r.output,
            std::string(
                "error: invalid command or combination of command options.\n"
                "error: the command 'run' must be specified before any service files or options.\n"
                "\n---\n\nmaybe you intended to run something like this?\n"
                "$ tomodachi run tests/services/auto_closing_service_sigterm.cpp\n\n") +
                help_hint);
}

TEST(CliArgs, RunOptionBeforeCommand) {
  const auto r = parse({"--logger", "json", "run", "svc.cpp"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output, std::string("error: invalid command or combination of command options.\n"
                                  "error: the command 'run' must be specified before any options.\n"
                                  "\n---\n\nmaybe you intended to run something like this?\n"
                                  "$ tomodachi run --logger json svc.cpp\n\n") +
                          help_hint);
}

TEST(CliArgs, RunOptionErrors) {
  EXPECT_EQ(parse({"run", "--loop", "unknown", "app.cpp"}).output,
            "Invalid value for --loop option: 'unknown' not recognized\n");
  EXPECT_EQ(
      parse({"run", "--log-level", "foo", "app.cpp"}).output,
      "Invalid log level: 'foo' (expected 'debug', 'info', 'warning', 'error' or 'critical')\n");
  EXPECT_EQ(parse({"run", "--logger", "somelogger", "app.cpp"}).output,
            "Invalid value for --logger option: 'somelogger' (expected 'json', 'console', 'python' "
            "or 'disabled')\n");
  EXPECT_EQ(parse({"run", "app.cpp", "--logger"}).output, "Missing value for --logger option\n");
  EXPECT_EQ(parse({"run", "app.cpp", "--custom-logger"}).output,
            "Missing value for --custom-logger option\n");
  EXPECT_EQ(parse({"run", "app.cpp", "-c"}).output, "Missing config file on command line\n");
  EXPECT_EQ(parse({"run", "app.cpp", "--logger", "custom"}).output,
            "Invalid combination of --custom-logger and --logger options\n");
  for (auto args :
       std::vector<std::vector<std::string>>{{"run", "--loop", "unknown", "app.cpp"},
                                             {"run", "--custom-logger", "x.y", "app.cpp"},
                                             {"run", "--log-level"}}) {
    EXPECT_EQ(parse(args).exit_code, 2);
  }
  const auto no_file = parse({"run", "--production"});
  EXPECT_EQ(no_file.exit_code, 2);
  EXPECT_EQ(
      no_file.output,
      std::string("error: no service file has been provided as argument.\n\n---\n\n") + help_hint);
}

TEST(CliArgs, OpenTelemetryInstrumentReadsTheOtelEnvironment) {
  Env env;
  EXPECT_FALSE(parse({"run", "app.cpp"}, env).run.opentelemetry.has_value());  // off by default
  auto flag = parse({"run", "--opentelemetry-instrument", "app.cpp"}, env);
  ASSERT_FALSE(flag.exit_code.has_value()) << flag.output;
  ASSERT_TRUE(flag.run.opentelemetry.has_value());
  EXPECT_EQ(flag.run.service_files, std::vector<std::string>{"app.cpp"});
  for (const char* off : {"0", "no", "none", "FALSE"}) {
    env.values["TOMODACHI_OPENTELEMETRY_INSTRUMENT"] = off;
    EXPECT_FALSE(parse({"run", "app.cpp"}, env).run.opentelemetry.has_value()) << off;
  }
  env.values["TOMODACHI_OPENTELEMETRY_INSTRUMENT"] = "yes";
  EXPECT_TRUE(parse({"run", "app.cpp"}, env).run.opentelemetry.has_value());
  env.values["OTEL_TRACES_SAMPLER"] = "sometimes";
  auto bad = parse({"run", "app.cpp"}, env);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("Invalid OpenTelemetry configuration"), std::string::npos);
  EXPECT_NE(bad.output.find("OTEL_TRACES_SAMPLER"), std::string::npos) << bad.output;
  env.values["TOMODACHI_OPENTELEMETRY_INSTRUMENT"] = "0";  // off: the OTEL_* values are not read
  EXPECT_FALSE(parse({"run", "app.cpp"}, env).exit_code.has_value());
}

TEST(CliArgs, EnvironmentMustAgreeWithFlags) {
  Env env;
  env.values["TOMODACHI_LOG_LEVEL"] = "warning";
  EXPECT_EQ(parse({"run", "--log-level", "info", "a.cpp"}, env).output,
            "Invalid value for --log-level option: 'info' differs from env TOMODACHI_LOG_LEVEL\n");
  auto r = parse({"run", "--log-level", "WARN", "a.cpp"}, env);
  EXPECT_FALSE(r.exit_code.has_value());
  EXPECT_EQ(r.run.log_level, tomodachi::LogLevel::warning);
  env.values["TOMODACHI_LOG_LEVEL"] = "loud";
  EXPECT_EQ(parse({"run", "a.cpp"}, env).output,
            "Invalid TOMODACHI_LOG_LEVEL environment value (expected 'debug', 'info', 'warning', "
            "'error' or 'critical')\n");
  Env logger_env;
  logger_env.values["TOMODACHI_LOGGER"] = "json";
  EXPECT_EQ(parse({"run", "--logger", "console", "a.cpp"}, logger_env).output,
            "Invalid value for --logger option: 'console' differs from env TOMODACHI_LOGGER\n");
  EXPECT_EQ(parse({"run", "a.cpp"}, logger_env).run.logger, tomodachi::LogFormat::json);
  Env production;
  production.values["TOMODACHI_PRODUCTION"] = "no";
  EXPECT_FALSE(parse({"run", "a.cpp"}, production).run.production);
  production.values["TOMODACHI_PRODUCTION"] = "1";
  EXPECT_TRUE(parse({"run", "a.cpp"}, production).run.production);
}

TEST(CliArgs, RunArgumentsAnywhere) {
  const std::string x = testing::TempDir() + "/x.json";
  const std::string y = testing::TempDir() + "/y.json";
  std::ofstream(x) << R"({"uuid": "u", "l": [1]})";
  std::ofstream(y) << R"({"l": [2]})";
  const auto r = parse({"start", "a.cpp", "--production", "b.so", "--log-level", "debug",
                        "--logger", "python", "--loop", "uvloop", "-c", x, y});
  ASSERT_FALSE(r.exit_code.has_value()) << r.output;
  EXPECT_EQ(r.run.service_files, (std::vector<std::string>{"a.cpp", "b.so"}));
  EXPECT_EQ(r.run.config_files, (std::vector<std::string>{x, y}));
  EXPECT_EQ(boost::json::value(r.run.config), boost::json::parse(R"({"uuid": "u", "l": [1, 2]})"));
  EXPECT_TRUE(r.run.production);
  EXPECT_EQ(r.run.log_level, tomodachi::LogLevel::debug);
  EXPECT_EQ(r.run.logger, tomodachi::LogFormat::console);
  EXPECT_EQ(r.run.loop, "uvloop");
}

TEST(CliArgs, ConfigErrorsComeInUpstreamOrder) {
  // -c is processed before --log-level: the first error wins.
  const auto r = parse({"run", "-c", "/nonexistent/config.json", "--log-level", "foo", "app.cpp"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output.rfind("Invalid config file: ", 0), 0u) << r.output;
}

// As upstream: a bad variable value is reported as a bad flag value, values are lower-cased.
TEST(CliArgs, EnvironmentValuesUseTheFlagTexts) {
  Env env;
  env.values["TOMODACHI_LOGGER"] = "Foo";
  EXPECT_EQ(parse({"run", "a.cpp"}, env).output,
            "Invalid value for --logger option: 'foo' (expected 'json', 'console', 'python' or "
            "'disabled')\n");
  env.values["TOMODACHI_LOGGER"] = "JSON";
  EXPECT_EQ(parse({"run", "a.cpp"}, env).run.logger, tomodachi::LogFormat::json);
  EXPECT_EQ(parse({"run", "--logger", "bogus", "a.cpp"}, env).output,
            "Invalid value for --logger option: 'bogus' differs from env TOMODACHI_LOGGER\n");
  env.values["TOMODACHI_LOGGER"] = "custom";
  EXPECT_EQ(parse({"run", "a.cpp"}, env).output,
            "Invalid combination of --custom-logger and --logger options\n");
  Env loop;
  loop.values["TOMODACHI_LOOP"] = "BAD";
  EXPECT_EQ(parse({"run", "a.cpp"}, loop).output,
            "Invalid value for --loop option: 'bad' not recognized\n");
  loop.values["TOMODACHI_LOOP"] = "asyncio";
  EXPECT_EQ(parse({"run", "--loop", "AIO", "a.cpp"}, loop).output,
            "Invalid value for --loop option: 'aio' differs from env TOMODACHI_LOOP\n");
  EXPECT_EQ(parse({"run", "--loop", "AsyncIO", "a.cpp"}, loop).run.loop, "asyncio");
  EXPECT_EQ(parse({"run", "--logger", "JSON", "a.cpp"}).run.logger, tomodachi::LogFormat::json);
}
