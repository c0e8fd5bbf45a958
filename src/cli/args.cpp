#include "cli/args.hpp"

#include "cli/build_info.hpp"
#include "cli/build_time.hpp"
#include "core/config.hpp"
#include "telemetry/config.hpp"

#include <tomodachi/version.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace tomodachi::cli {
namespace {

constexpr const char* help_hint =
    "use the '--help' option for cli usage help.\n"
    "$ tomodachi --help\n";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool env_flag_enabled(const char* value) {
  if (!value) return false;
  const std::string v = lower(value);
  return !(v.empty() || v == "0" || v == "no" || v == "none" || v == "false");
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += ' ';
    out += part;
  }
  return out;
}

ParseResult usage_error(const std::string& reason,
                        const std::vector<std::string>* suggestion = nullptr) {
  ParseResult result;
  result.exit_code = 2;
  result.output =
      "error: invalid command or combination of command options.\nerror: " + reason + "\n\n---\n\n";
  if (suggestion) {
    result.output += "maybe you intended to run something like this?\n$ tomodachi run " +
                     join(*suggestion) + "\n\n";
  }
  result.output += help_hint;
  return result;
}

ParseResult plain_error(const std::string& message) {
  ParseResult result;
  result.exit_code = 2;
  result.output = message + "\n";
  return result;
}

ParseResult print_and_exit(std::string text) {
  ParseResult result;
  result.exit_code = 0;
  result.output = std::move(text);
  return result;
}

// Top-level long options (getopt semantics, unique prefixes accepted).
constexpr std::array<const char*, 11> top_level_long_options = {
    "help",      "version", "dependency-versions", "dependencies", "deps", "log",
    "log-level", "logger",  "custom-logger",       "production",   "loop"};

struct LongOptionMatch {
  std::string name;
  std::string error;
};

LongOptionMatch match_long_option(const std::string& given) {
  for (const char* name : top_level_long_options) {
    if (given == name) return {name, {}};
  }
  std::vector<std::string> candidates;
  for (const char* name : top_level_long_options) {
    if (std::string_view(name).substr(0, given.size()) == given) candidates.emplace_back(name);
  }
  if (candidates.size() == 1) return {candidates.front(), {}};
  if (candidates.empty()) return {{}, "option --" + given + " not recognized"};
  return {{}, "option --" + given + " not a unique prefix"};
}

bool is_run_command(const std::string& word) {
  return word == "run" || word == "start" || word == "go";
}

}  // namespace

bool looks_like_service_file(const std::string& argument) {
  for (const char* ending : {".cpp", ".cc", ".cxx", ".so"}) {
    const std::string_view e(ending);
    if (argument.size() > e.size() &&
        argument.compare(argument.size() - e.size(), e.size(), e) == 0)
      return true;
  }
  return false;
}

std::string version_text() { return "tomodachi " + std::string(version) + "\n"; }

std::string usage_text() {
  return "usage:\n"
         "  $ tomodachi run [options] <service.cpp ...>\n"
         "\n"
         "description:\n"
         "  starts the tomodachi service(s) defined in the files provided as arguments.\n"
         "  a .cpp file is compiled (and cached) into a shared object; a .so file is loaded as "
         "is.\n"
         "\n"
         "options:\n"
         "  --loop [auto|asyncio|uvloop]\n"
         "      accepted for compatibility: every value runs the one asio event loop. (default: "
         "auto)\n"
         "  --production\n"
         "      disables service restart on file changes and hides the info banner.\n"
         "  --log-level [debug|info|warning|error|critical]\n"
         "      specify the minimum log level. (default: info)\n"
         "  --logger [console|json|python|disabled]\n"
         "      specify a log formatter for tomodachi.logging. (default: console)\n"
         "  -c, --config <config.json ...>\n"
         "      (deprecated) json config files merged into the services' attributes.\n"
         "\n"
         "more commands:\n"
         "  $ tomodachi build <service.cpp> -o <service.so>\n"
         "      compiles a service file once (optimised) for `tomodachi run --production "
         "<service.so>`.\n"
         "\n"
         "usage examples:\n"
         "  $ tomodachi run --production --logger json service.so\n"
         "  $ tomodachi run --log-level warning service.cpp\n"
         "\n"
         "ver " +
         std::string(version) + " (" + time_since_build_phrase() +
         ")\n"
         "git https://github.com/kalaspuff/tomodachi (upstream python project)\n";
}

std::string dependency_versions_text() {
  std::string out;
  for (const auto& [name, value] : dependency_versions()) out += name + "/" + value + "\n";
  return out;
}

ParseResult parse_command_line(const std::vector<std::string>& args,
                               const std::function<const char*(const char*)>& environment) {
  if (args.empty()) return print_and_exit(usage_text());

  // getopt: options until the first non-option argument.
  std::size_t index = 0;
  for (; index < args.size(); ++index) {
    const std::string& arg = args[index];
    if (arg == "--") {
      ++index;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') break;
    std::string option;
    if (arg[1] == '-') {
      const auto match = match_long_option(arg.substr(2));
      if (!match.error.empty()) return usage_error(match.error + ".");
      option = match.name;
    } else {
      const char letter = arg[1];
      if (letter == 'h')
        option = "help";
      else if (letter == 'v' || letter == 'V')
        option = "version";
      else if (letter == 'l')
        option = "log";
      else
        return usage_error(std::string("option -") + letter + " not recognized.");
    }
    if (option == "help") return print_and_exit(usage_text());
    if (option == "version") return print_and_exit(version_text());
    if (option == "dependency-versions" || option == "dependencies" || option == "deps") {
      return print_and_exit(dependency_versions_text());
    }
    // A run option before `run`.
    std::vector<std::string> suggestion;
    bool any_service_file = false;
    for (const auto& a : args) {
      if (!is_run_command(a)) suggestion.push_back(a);
      any_service_file = any_service_file || looks_like_service_file(a);
    }
    return usage_error("the command 'run' must be specified before any options.",
                       any_service_file ? &suggestion : nullptr);
  }

  if (index < args.size() && is_run_command(args[index])) {
    const std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(index) + 1,
                                        args.end());
    if (rest.empty()) return print_and_exit(usage_text());
    return parse_run_arguments(rest, environment);
  }
  const bool any_service_file = std::any_of(args.begin(), args.end(), looks_like_service_file);
  return usage_error("the command 'run' must be specified before any service files or options.",
                     any_service_file ? &args : nullptr);
}

ParseResult parse_run_arguments(const std::vector<std::string>& input,
                                const std::function<const char*(const char*)>& environment,
                                bool allow_no_files) {
  std::vector<std::string> args = input;
  ParseResult result;
  RunArguments& run = result.run;

  const auto take_flag =
      [&](std::initializer_list<const char*> names) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < args.size(); ++i) {
      for (const char* name : names) {
        if (args[i] == name) return i;
      }
    }
    return std::nullopt;
  };

  // --loop: one event loop exists; the upstream values are accepted for compatibility.
  // As upstream: values are lower-cased, the flag must equal the variable as written, and
  // a bad variable value is reported as a bad --loop value.
  {
    const char* env_text = environment("TOMODACHI_LOOP");
    const std::string env = env_text ? lower(env_text) : std::string();
    std::optional<std::string> value;
    if (auto i = take_flag({"--loop"})) {
      if (*i + 1 < args.size()) {
        value = lower(args[*i + 1]);
        args.erase(args.begin() + static_cast<std::ptrdiff_t>(*i),
                   args.begin() + static_cast<std::ptrdiff_t>(*i) + 2);
        if (!env.empty() && env != *value) {
          return plain_error("Invalid value for --loop option: '" + *value +
                             "' differs from env TOMODACHI_LOOP");
        }
      } else {
        args.erase(args.begin() + static_cast<std::ptrdiff_t>(*i));
      }
    }
    if (!value && !env.empty()) value = env;
    if (value) {
      if (*value == "auto" || *value == "default") {
        run.loop = "auto";
      } else if (*value == "asyncio" || *value == "aio" || *value == "async") {
        run.loop = "asyncio";
      } else if (*value == "uvloop" || *value == "libuv" || *value == "uv") {
        run.loop = "uvloop";
      } else {
        return plain_error("Invalid value for --loop option: '" + *value + "' not recognized");
      }
    }
  }

  // -c / --config: every following argument that does not start with '-'.
  while (auto i = take_flag({"-c", "--config"})) {
    std::size_t end = *i + 1;
    while (end < args.size() && !args[end].empty() && args[end][0] != '-') {
      run.config_files.push_back(args[end]);
      ++end;
    }
    if (end == *i + 1) return plain_error("Missing config file on command line");
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(*i),
               args.begin() + static_cast<std::ptrdiff_t>(end));
  }
  if (!run.config_files.empty()) {
    try {
      run.config = detail::parse_config_files(run.config_files);
    } catch (const detail::ConfigError& e) {
      return plain_error(e.what());
    }
  }

  // --production
  if (auto i = take_flag({"--production"})) {
    run.production = true;
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(*i));
  }
  if (env_flag_enabled(environment("TOMODACHI_PRODUCTION"))) run.production = true;

  // --log-level / -l / --log
  {
    constexpr const char* expected = "(expected 'debug', 'info', 'warning', 'error' or 'critical')";
    const char* env = environment("TOMODACHI_LOG_LEVEL");
    std::optional<LogLevel> env_level;
    if (env && *env) {
      env_level = parse_log_level(env);
      if (!env_level)
        return plain_error(std::string("Invalid TOMODACHI_LOG_LEVEL environment value ") +
                           expected);
      run.log_level = *env_level;
    }
    while (auto i = take_flag({"--log-level", "-l", "--log"})) {
      if (*i + 1 >= args.size()) {  // a flag without a value is ignored
        args.erase(args.begin() + static_cast<std::ptrdiff_t>(*i));
        continue;
      }
      const std::string value = args[*i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(*i),
                 args.begin() + static_cast<std::ptrdiff_t>(*i) + 2);
      auto level = parse_log_level(value);
      if (!level) return plain_error("Invalid log level: '" + value + "' " + expected);
      if (env_level && *env_level != *level) {
        return plain_error("Invalid value for --log-level option: '" + value +
                           "' differs from env TOMODACHI_LOG_LEVEL");
      }
      run.log_level = *level;
    }
  }

  // --logger: as upstream, values are lower-cased, the flag must equal the variable as
  // written, and a bad variable value is reported as a bad --logger value.
  {
    const char* env_text = environment("TOMODACHI_LOGGER");
    const std::string env = env_text ? lower(env_text) : std::string();
    std::optional<std::string> value;
    if (auto i = take_flag({"--logger"})) {
      if (*i + 1 >= args.size()) return plain_error("Missing value for --logger option");
      value = lower(args[*i + 1]);
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(*i),
                 args.begin() + static_cast<std::ptrdiff_t>(*i) + 2);
      if (!env.empty() && env != *value) {
        return plain_error("Invalid value for --logger option: '" + *value +
                           "' differs from env TOMODACHI_LOGGER");
      }
    }
    if (!value && !env.empty()) value = env;
    if (value) {
      if (*value == "console" || *value == "python") {
        run.logger = LogFormat::console;  // python: the console format (docs/cli.md)
      } else if (*value == "json") {
        run.logger = LogFormat::json;
      } else if (*value == "disabled") {
        run.logger = LogFormat::disabled;
      } else if (*value == "custom") {
        return plain_error("Invalid combination of --custom-logger and --logger options");
      } else {
        return plain_error("Invalid value for --logger option: '" + *value +
                           "' (expected 'json', 'console', 'python' or 'disabled')");
      }
    }
  }

  // Python-only options: a clear error.
  if (auto i = take_flag({"--custom-logger"})) {
    if (*i + 1 >= args.size() || args[*i + 1].empty() || args[*i + 1][0] == '-') {
      return plain_error("Missing value for --custom-logger option");
    }
    return plain_error(
        "The --custom-logger option is not supported by tomodachi for C++ (yet): log records can "
        "be consumed "
        "with '--logger json' or a log sink (tomodachi::add_log_sink), see docs/cli.md");
  }
  if (const char* env = environment("TOMODACHI_CUSTOM_LOGGER"); env && *env) {
    return plain_error(
        "TOMODACHI_CUSTOM_LOGGER is not supported by tomodachi for C++ (yet), see docs/cli.md");
  }
  // --opentelemetry-instrument / TOMODACHI_OPENTELEMETRY_INSTRUMENT: the OTEL_* environment
  // is read (and checked) here, so a bad value is a start-up error before anything runs.
  telemetry::EnvLookup env_lookup = [&environment](std::string_view name) {
    const char* value = environment(std::string(name).c_str());
    return value ? std::optional<std::string>(value) : std::nullopt;
  };
  bool instrument = telemetry::instrument_requested(env_lookup);
  if (auto i = take_flag({"--opentelemetry-instrument"})) {
    instrument = true;
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(*i));
  }
  if (instrument) {
    try {
      run.opentelemetry = telemetry::load_config(env_lookup);
    } catch (const telemetry::ConfigError& e) {
      return plain_error(std::string("Invalid OpenTelemetry configuration: ") + e.what() +
                         " (see docs/observability.md)");
    }
  }

  for (const auto& arg : args) {
    if (!arg.empty() && arg[0] == '-') {
      return plain_error("Invalid option for the 'run' command: '" + arg +
                         "' (see 'tomodachi --help')");
    }
  }
  run.service_files = args;
  if (run.service_files.empty() && !allow_no_files) {
    ParseResult error;
    error.exit_code = 2;
    error.output =
        std::string("error: no service file has been provided as argument.\n\n---\n\n") + help_hint;
    return error;
  }
  return result;
}

}  // namespace tomodachi::cli
