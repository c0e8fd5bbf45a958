#pragma once
// Command-line parsing of `tomodachi` with the texts and exit codes of spec/cli.md §2–§4.

#include "telemetry/config.hpp"

#include <tomodachi/logging.hpp>

#include <boost/json/object.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tomodachi::cli {

/// What the command line asks for.
struct RunArguments {
  std::vector<std::string> service_files;  // as given (suffix may be omitted)
  std::vector<std::string> config_files;
  boost::json::object config;  // the merged config files (read while parsing: first error wins)
  bool production = false;
  LogLevel log_level = LogLevel::info;
  LogFormat logger = LogFormat::console;
  std::string loop = "auto";
  /// --opentelemetry-instrument (or TOMODACHI_OPENTELEMETRY_INSTRUMENT): the OTEL_* config.
  std::optional<telemetry::Config> opentelemetry;
};

/// The outcome of parsing: print `output` to stdout and exit with `exit_code`, or run.
struct ParseResult {
  std::optional<int> exit_code;  // set: print `output` and exit
  std::string output;
  RunArguments run;
};

/// Parses `tomodachi <args...>` (argv without the program name). `environment` reads
/// variables (getenv in production, a map in tests).
ParseResult parse_command_line(const std::vector<std::string>& args,
                               const std::function<const char*(const char*)>& environment);

/// Parses the options of `run` (args after `run`), for `tomodachi run` and TOMODACHI_MAIN
/// (where `allow_no_files` accepts a command line without service files).
ParseResult parse_run_arguments(const std::vector<std::string>& args,
                                const std::function<const char*(const char*)>& environment,
                                bool allow_no_files = false);

/// `--help` text.
std::string usage_text();

/// `-v` text.
std::string version_text();

/// `--dependency-versions` text: one `name/version` line per linked library.
std::string dependency_versions_text();

/// File endings that make the CLI suggest `tomodachi run ...`.
bool looks_like_service_file(const std::string& argument);

}  // namespace tomodachi::cli
