// `tomodachi run`: resolve, compile and load service files, print the banner, watch
// for changes, run the services, re-exec on a restart. Also `tomodachi build` and
// tomodachi::main for services linked into their own binary.
#include "cli/run.hpp"

#include "cli/abi_section.hpp"
#include "cli/args.hpp"
#include "cli/banner.hpp"
#include "cli/build_progress.hpp"
#include "cli/service_build.hpp"
#include "cli/watcher.hpp"
#include "core/config.hpp"
#include "core/launcher.hpp"
#include "core/registry.hpp"
#include "telemetry/instrument.hpp"

#include <tomodachi/error.hpp>
#include <tomodachi/json.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/main.hpp>

#include <boost/json.hpp>

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

namespace fs = std::filesystem;

namespace tomodachi::cli {
namespace {

constexpr const char* restarting_variable = "TOMODACHI_WATCHER_RESTART";

const char* from_environment(const char* name) { return std::getenv(name); }

bool is_source_file(const std::string& path) {
  for (const char* ending : {".cpp", ".cc", ".cxx"}) {
    const std::string_view e(ending);
    if (path.size() > e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0)
      return true;
  }
  return false;
}

/// The file an argument names; the suffix may be omitted (`service` → `service.cpp`).
std::optional<std::string> resolve_service_file(const std::string& argument) {
  std::error_code ec;
  for (const std::string& candidate : {argument, argument + ".cpp", argument + ".so"}) {
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  return std::nullopt;
}

/// The file path the services' records name (`file_path` of `tomodachi.init` records):
/// absolute, the real working directory joined with the argument, as upstream's
/// `module.__file__`.
std::string module_file_path(const std::string& file) {
  if (!file.empty() && file.front() == '/') return file;
  std::error_code ec;
  const fs::path cwd = fs::canonical(fs::current_path(ec), ec);
  return ec ? file : cwd.string() + "/" + file;
}

/// The `file_path` of `no such service file`: the argument, with the source suffix when
/// it was omitted (upstream appends `.py`).
std::string missing_file_path(const std::string& argument) {
  if (is_source_file(argument) || fs::path(argument).extension() == ".so") return argument;
  return argument + ".cpp";
}

void log_load_failure(const std::string& file, const std::string& error) {
  get_logger("tomodachi.importer")
      .error("unable to load service file",
             {{"file_path", boost::json::string(file)}, {"exception", boost::json::string(error)}});
}

/// Loads a service shared object; the classes it registers form one container. The ABI
/// tag is checked from the file first: a mismatch often shows up as an unresolved
/// symbol or a missing libtomodachi version, which dlopen would report less clearly.
detail::Container load_shared_object(const std::string& display_path, const std::string& so_path) {
  check_abi_tags(so_path);
  detail::begin_loading(display_path);
  void* handle = ::dlopen(so_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* error_text = ::dlerror();
    std::string error = error_text ? error_text : "dlopen failed";
    try {
      detail::end_loading();
    } catch (...) {
    }
    if (error.find("tomodachi") != std::string::npos) {
      error += " (built for another tomodachi? rebuild it with this tomodachi: tomodachi build)";
    }
    throw Error(error);
  }
  // The handle stays open for the life of the process (classes and code live in it).
  return detail::Container{display_path, detail::end_loading()};
}

/// Marks every descriptor above stderr close-on-exec, so a re-exec (or a compiler
/// child) inherits no listening socket.
void close_descriptors_on_exec() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return;
  const int own = ::dirfd(dir);
  while (dirent* entry = ::readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd > 2 && fd != own) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  ::closedir(dir);
}

[[noreturn]] void reexec(const std::vector<std::string>& argv) {
  close_descriptors_on_exec();
  ::setenv(restarting_variable, "1", 1);
  std::vector<char*> c_argv;
  for (const auto& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);
  std::fflush(nullptr);
  ::execv("/proc/self/exe", c_argv.data());
  get_logger("tomodachi.watcher")
      .error("cannot restart", {{"error", boost::json::string(std::strerror(errno))}});
  std::_Exit(1);
}

std::string compiler_description(const Toolchain& toolchain) {
  return toolchain.compiler + " -O0 (precompiled <tomodachi/tomodachi.hpp>)";
}

struct LoadedFiles {
  std::vector<detail::Container> containers;
  std::vector<std::string> sources;  // .cpp files (rebuilt on changes)
  std::vector<std::string> include_dirs;
};

/// Compiles (if needed) and loads every service file. Returns nullopt after logging
/// the failure.
std::optional<LoadedFiles> load_service_files(const std::vector<std::string>& files, BuildMode mode,
                                              const std::optional<Toolchain>& toolchain) {
  LoadedFiles loaded;
  for (const auto& file : files) {
    std::string so_path = file;
    if (is_source_file(file)) {
      if (!toolchain) return std::nullopt;
      loaded.sources.push_back(file);
      BuildResult build;
      try {
        const auto directives = read_directives(file);
        loaded.include_dirs.insert(loaded.include_dirs.end(), directives.include_dirs.begin(),
                                   directives.include_dirs.end());
        build = build_service(file, mode, *toolchain);
      } catch (const std::exception& e) {
        log_load_failure(file, e.what());
        return std::nullopt;
      }
      if (!build.ok) {
        print_compiler_failure(std::cerr, file, build.output);
        log_load_failure(file, "compilation failed");
        return std::nullopt;
      }
      so_path = build.shared_object;
    }
    try {
      loaded.containers.push_back(load_shared_object(module_file_path(file), so_path));
    } catch (const std::exception& e) {
      log_load_failure(file, e.what());
      return std::nullopt;
    }
  }
  return loaded;
}

void log_changes(const FileChanges& changes) {
  const auto to_array = [](const std::vector<std::string>& paths) {
    boost::json::array array;
    for (const auto& p : paths) array.emplace_back(boost::json::string(p));
    return array;
  };
  auto logger = get_logger("tomodachi.watcher");
  const int kinds = !changes.updated.empty() + !changes.added.empty() + !changes.removed.empty();
  if (kinds > 1) {
    LogFields fields;
    if (!changes.updated.empty()) fields.push_back({"updated_files", to_array(changes.updated)});
    if (!changes.added.empty()) fields.push_back({"added_files", to_array(changes.added)});
    if (!changes.removed.empty()) fields.push_back({"removed_files", to_array(changes.removed)});
    logger.warning("modified files or filepaths", std::move(fields));
  } else if (!changes.updated.empty()) {
    logger.warning("updated files", {{"updated_files", to_array(changes.updated)}});
  } else if (!changes.added.empty()) {
    logger.warning("added files", {{"added_files", to_array(changes.added)}});
  } else {
    logger.warning("removed files", {{"removed_files", to_array(changes.removed)}});
  }
}

/// The watcher's reaction to a change: rebuild; on success drain and restart.
void on_files_changed(const FileChanges& changes, const std::vector<std::string>& sources,
                      const Toolchain& toolchain) {
  log_changes(changes);
  for (const auto& source : sources) {
    BuildResult build;
    try {
      build = build_service(source, BuildMode::development, toolchain);
    } catch (const std::exception& e) {
      build.output = std::string(e.what()) + "\n";
    }
    if (!build.ok) {
      print_compiler_failure(std::cerr, source, build.output);
      get_logger("tomodachi.watcher")
          .warning("restart failed due to error", {{"file_path", boost::json::string(source)}});
      return;
    }
  }
  get_logger("tomodachi.watcher").warning("restarting services");
  detail::request_restart();
}

int run_services(const RunArguments& run, const std::vector<std::string>& argv,
                 std::vector<detail::Container> linked) {
  configure_logging(run.logger, run.log_level);
  const bool restarting = std::getenv(restarting_variable) != nullptr;
  ::unsetenv(restarting_variable);

  const boost::json::object& config = run.config;

  // A file that cannot be found is reported after the banner, as upstream's importer
  // does (the banner names it as given).
  std::vector<std::string> files;
  std::optional<std::string> missing;
  for (const auto& argument : run.service_files) {
    auto resolved = resolve_service_file(argument);
    if (!resolved && !missing) missing = argument;
    const std::string file = resolved.value_or(argument);
    if (std::find(files.begin(), files.end(), file) == files.end()) files.push_back(file);
  }

  const bool development = !run.production;
  const bool needs_compiler = std::any_of(files.begin(), files.end(),
                                          [](const std::string& f) { return is_source_file(f); });
  std::optional<Toolchain> toolchain;
  if (needs_compiler) {
    try {
      toolchain = Toolchain::load();
    } catch (const std::exception& e) {
      for (const auto& f : files) {
        if (is_source_file(f)) log_load_failure(f, e.what());
      }
      return 1;
    }
  }

  if (development) {
    BannerInput banner{argv,
                       files,
                       run.config_files,
                       run.loop,
                       toolchain ? compiler_description(*toolchain) : std::string(),
                       banner_colors_wanted(),
                       needs_compiler};
    std::cout << render_banner(banner) << std::flush;
  }
  if (missing) {
    // Upstream's importer logs the file, then its launcher the OSError it raised.
    get_logger("tomodachi.importer")
        .error("no such service file",
               {{"file_path", boost::json::string(missing_file_path(*missing))}});
    log_uncaught_exception(std::make_exception_ptr(std::runtime_error("No such service file")));
  }

  // After a restart a file that went missing or does not compile is retried, as upstream.
  const BuildMode mode = development ? BuildMode::development : BuildMode::production;
  auto loaded = missing ? std::nullopt : load_service_files(files, mode, toolchain);
  if (!loaded) {
    if (restarting && development) {
      get_logger("tomodachi.watcher").warning("cannot restart due to errors");
      get_logger("tomodachi.watcher").warning("trying again in 1.5 seconds");
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      reexec(argv);
    }
    return 1;
  }
  for (auto& container : linked) loaded->containers.push_back(std::move(container));

  // The watcher rebuilds .cpp service files; a run of .so files or linked-in services
  // has nothing it could rebuild.
  std::unique_ptr<Watcher> watcher;
  const bool watch = development && toolchain && !loaded->sources.empty();
  if (watch) {
    WatcherOptions options;
    options.roots = default_watch_roots(files, loaded->include_dirs);
    std::error_code ec;
    options.ignored_paths.push_back(
        fs::weakly_canonical(fs::absolute(cache_dir()), ec).string());  // compiler output
    if (auto it = config.find("options"); it != config.end() && it->value().is_object()) {
      try {
        const Options parsed = Options::from_json(it->value().get_object());
        options.ignored_dirs = parsed.watcher.ignored_dirs;
        options.watched_file_endings = parsed.watcher.watched_file_endings;
      } catch (const std::exception&) {
        // reported when the services apply the config
      }
    }
    watcher = std::make_unique<Watcher>(std::move(options));
    watcher->start(
        [sources = loaded->sources, watch_toolchain = *toolchain](const FileChanges& changes) {
          on_files_changed(changes, sources, watch_toolchain);
        });
  }

  if (run.opentelemetry) {
    telemetry::request_instrumentation(*run.opentelemetry);
  } else {
    telemetry::clear_instrumentation_request();
  }
  detail::LaunchOptions launch_options{config, watch};
  const detail::LaunchResult result = detail::launch(std::move(loaded->containers), launch_options);
  if (watcher) watcher->stop();

  if (development && result.restart) reexec(argv);
  if (development && restarting && result.exit_code != 0 && !result.interrupted) {
    get_logger("tomodachi.watcher").warning("service exited due to errors");
    get_logger("tomodachi.watcher").warning("trying again in 1.5 seconds");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    reexec(argv);
  }
  return result.exit_code;
}

constexpr const char* build_usage = "usage: tomodachi build <service.cpp> [-o <service.so>]\n";

int build_usage_error(const std::string& reason) {
  std::cout << "error: " << reason << "\n" << build_usage;
  return 2;
}

int build_command(const std::vector<std::string>& args) {
  std::optional<std::string> source;
  std::optional<std::string> output;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-o" || arg == "--output") {
      if (i + 1 >= args.size()) return build_usage_error("option '" + arg + "' needs a file name");
      output = args[++i];
    } else if (arg == "--production") {
      return build_usage_error(
          "'tomodachi build' does not take '--production': it always compiles with the "
          "production flags (-O2 -DNDEBUG)");
    } else if (!arg.empty() && arg[0] == '-') {
      return build_usage_error("unknown option '" + arg + "' for 'tomodachi build'");
    } else if (source) {
      return build_usage_error("one service file at a time: '" + arg + "' follows '" + *source +
                               "'");
    } else {
      source = arg;
    }
  }
  if (!source) return build_usage_error("no service file given");
  // The compile records (build_progress.hpp) follow TOMODACHI_LOG_LEVEL and TOMODACHI_LOGGER.
  const ParseResult logging = parse_run_arguments({}, from_environment, true);
  if (logging.exit_code) {
    std::cout << logging.output << std::flush;
    return *logging.exit_code;
  }
  configure_logging(logging.run.logger, logging.run.log_level);
  if (!output) output = fs::path(*source).replace_extension(".so").string();
  try {
    const Toolchain toolchain = Toolchain::load();
    const BuildResult build = build_service(*source, BuildMode::production, toolchain, output);
    if (!build.ok) {
      print_compiler_failure(std::cerr, *source, build.output);
      std::cerr << "tomodachi build: compiling '" << *source << "' failed\n";
      return 1;
    }
    std::cerr << build.output;  // warnings
    std::cout << "built " << *output << (build.cached ? " (cached)" : "") << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "tomodachi build: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main_entry(int argc, char** argv) {
  std::vector<std::string> all(argv, argv + argc);
  std::vector<std::string> args(all.begin() + 1, all.end());
  if (!args.empty() && args.front() == "build")
    return build_command({args.begin() + 1, args.end()});
  const ParseResult parsed = parse_command_line(args, from_environment);
  if (parsed.exit_code) {
    std::cout << parsed.output << std::flush;
    return *parsed.exit_code;
  }
  return run_services(parsed.run, all, {});
}

}  // namespace tomodachi::cli

namespace tomodachi {

int main(int argc, char** argv) {
  std::vector<std::string> all(argv, argv + argc);
  std::vector<std::string> args(all.begin() + 1, all.end());
  if (!args.empty() && (args.front() == "run" || args.front() == "start" || args.front() == "go")) {
    args.erase(args.begin());
  }
  if (!args.empty() && (args.front() == "-h" || args.front() == "--help")) {
    std::cout << "usage: " << all.front()
              << " [--production] [--log-level LEVEL] [--logger console|json|disabled] [-c "
                 "config.json ...]\n";
    return 0;
  }
  const cli::ParseResult parsed = cli::parse_run_arguments(args, cli::from_environment, true);
  if (parsed.exit_code) {
    std::cout << parsed.output << std::flush;
    return *parsed.exit_code;
  }
  std::vector<detail::Container> linked;
  try {
    linked.push_back(detail::Container{all.front(), detail::linked_classes()});
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  if (!parsed.run.service_files.empty()) {
    std::cout
        << "this binary runs its linked-in services; service files are run with `tomodachi run`\n";
    return 2;
  }
  return cli::run_services(parsed.run, all, std::move(linked));
}

}  // namespace tomodachi
