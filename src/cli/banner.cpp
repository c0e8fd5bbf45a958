#include "cli/banner.hpp"

#include "cli/build_time.hpp"

#include <tomodachi/version.hpp>

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

namespace tomodachi::cli {
namespace {

std::string label(const std::string& text) {
  std::string out = text;
  if (out.size() < 23) out.append(23 - out.size(), ' ');
  return out + "\xe2\x87\xa2 ";  // ⇢
}

bool env_true(const char* name) {
  const char* value = std::getenv(name);
  if (!value) return false;
  const std::string v(value);
  return v == "1" || v == "true" || v == "TRUE" || v == "True";
}

bool env_false(const char* name) {
  const char* value = std::getenv(name);
  if (!value) return false;
  const std::string v(value);
  return v == "0" || v == "false" || v == "FALSE" || v == "False";
}

std::string shell_quote(const std::string& word) {
  if (!word.empty() &&
      word.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_") ==
          std::string::npos) {
    return word;
  }
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\"'\"'";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string shorten_right(const std::string& text, std::size_t limit) {
  if (text.size() <= limit) return text;
  return text.substr(0, limit - 3) + "...";
}

std::string display_path(const std::string& path) {
  std::error_code ec;
  const auto cwd = std::filesystem::current_path(ec);
  const auto absolute = std::filesystem::absolute(path, ec).lexically_normal();
  std::string relative = absolute.lexically_relative(cwd).string();
  std::string out =
      (relative.empty() || relative.rfind("..", 0) == 0) ? absolute.string() : "./" + relative;
  if (out.size() > 60) out = ".../" + out.substr(out.size() - 56);
  return out;
}

std::string command_display(const BannerInput& input) {
  std::set<std::string> files(input.service_files.begin(), input.service_files.end());
  std::set<std::string> configs(input.config_files.begin(), input.config_files.end());
  std::string out = "$ tomodachi";
  bool files_shown = false;
  bool in_config = false;
  for (std::size_t i = 1; i < input.command_line.size(); ++i) {
    const std::string& arg = input.command_line[i];
    const bool is_file =
        files.count(arg) > 0 ||
        std::any_of(input.service_files.begin(), input.service_files.end(),
                    [&](const std::string& f) { return f == arg + ".cpp" || f == arg + ".so"; });
    if (arg == "-c" || arg == "--config") {
      in_config = true;
      out += " " + arg;
      continue;
    }
    if (in_config && configs.count(arg) > 0) {
      out += " <...>";
      continue;
    }
    in_config = false;
    if (is_file) {
      if (!files_shown) out += " <...>";
      files_shown = true;
      continue;
    }
    out += " " + shell_quote(arg);
  }
  return shorten_right(out, 60);
}

}  // namespace

bool banner_colors_wanted() {
  for (const char* name : {"NO_COLOR", "NOCOLOR", "TOMODACHI_NO_COLOR", "TOMODACHI_NOCOLOR",
                           "TOMODACHI_BANNER_NO_COLOR", "TOMODACHI_BANNER_NOCOLOR"}) {
    if (env_true(name)) return false;
  }
  for (const char* name : {"CLICOLOR", "CLI_COLOR", "CLICOLOR_FORCE"}) {
    if (env_false(name)) return false;
  }
  return isatty(STDOUT_FILENO) == 1;
}

std::string render_banner(const BannerInput& input) {
  const char* bold = input.colors ? "\x1b[1m" : "";
  const char* dim = input.colors ? "\x1b[2m" : "";
  const char* reset = input.colors ? "\x1b[0m" : "";
  const char* accent = input.colors ? "\x1b[36m" : "";

  utsname system{};
  uname(&system);
  std::string hostname = system.nodename;
  if (hostname.empty()) {
    if (const char* env = std::getenv("HOSTNAME")) hostname = env;
  }
  std::string os = system.sysname;
  if (os == "Darwin") os = "macOS";

  std::string out = "\n";
  out += std::string(bold) +
         "\xe2\x96\x80\xe2\x96\x88\xe2\x96\x80 \xe2\x96\x88\xe2\x96\x80\xe2\x96\x88 "
         "\xe2\x96\x88\xe2\x96\x80\xe2\x96\x84\xe2\x96\x80\xe2\x96\x88 "
         "\xe2\x96\x88\xe2\x96\x80\xe2\x96\x88 "
         "\xe2\x96\x88\xe2\x96\x80\xe2\x96\x84 \xe2\x96\x84\xe2\x96\x80\xe2\x96\x88 "
         "\xe2\x96\x88\xe2\x96\x80\xe2\x96\x80 "
         "\xe2\x96\x88 \xe2\x96\x88 \xe2\x96\x88\n";
  out +=
      " \xe2\x96\x88  \xe2\x96\x88\xe2\x96\x84\xe2\x96\x88 \xe2\x96\x88 \xe2\x96\x80 \xe2\x96\x88 "
      "\xe2\x96\x88\xe2\x96\x84\xe2\x96\x88 \xe2\x96\x88\xe2\x96\x84\xe2\x96\x80 "
      "\xe2\x96\x88\xe2\x96\x80\xe2\x96\x88 "
      "\xe2\x96\x88\xe2\x96\x84\xe2\x96\x84 \xe2\x96\x88\xe2\x96\x80\xe2\x96\x88 \xe2\x96\x88  "
      "\xe5\x8f\x8b\xe9\x81\x94" +
      std::string(reset) + "\n\n";

  std::string pid = "[pid: " + std::to_string(getpid()) + "]";
  if (pid.size() < 14) pid.append(14 - pid.size(), ' ');
  out += label("process " + pid) + command_display(input) + "\n";
  for (std::size_t i = 0; i < input.service_files.size(); ++i) {
    const std::string name = input.service_files.size() > 1
                                 ? "service file [" + std::to_string(i + 1) + "]"
                                 : "service file";
    out += label(name) + display_path(input.service_files[i]) + "\n";
  }
  out += "\n";
  out += label("operating system") + os + " on " + system.machine + " " + dim +
         "(hostname: " + hostname + ")" + reset + "\n";
  out += label("c++ runtime") + std::string("GCC ") + __VERSION__ + ", C++" +
         std::to_string(__cplusplus / 100 % 100) + " " + dim + "(libstdc++ " +
         std::to_string(__GLIBCXX__) + ")" + reset + "\n";
  out += label("tomodachi version") + std::string(version) + " " + dim + "(" +
         time_since_build_phrase() + ")" + reset + "\n";
  if (!input.compiler.empty()) out += label("service compiler") + input.compiler + "\n";
  out += label("event loop") + "asio" +
         (input.loop == "auto" ? std::string(" ") + dim + "(auto)" + reset : std::string()) + "\n";
  out += "\n";
  if (input.watcher) {
    out += std::string(accent) +
           "\xe2\x8c\x81 [watcher] file watcher enabled (code changes auto restart services)" +
           reset + "\n";
  }
  out += std::string(accent) +
         "\xe2\x8c\x81 [notice ] stop running services with <ctrl+c> (graceful teardown)" + reset +
         "\n\n";
  return out;
}

}  // namespace tomodachi::cli
