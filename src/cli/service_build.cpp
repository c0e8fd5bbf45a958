#include "cli/service_build.hpp"

#include "cli/build_manifest.hpp"
#include "cli/build_progress.hpp"
#include "core/encoding.hpp"

#include <tomodachi/error.hpp>
#include <tomodachi/json.hpp>
#include <tomodachi/main.hpp>
#include <tomodachi/version.hpp>

#include <boost/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace tomodachi::cli {
namespace {

std::string read_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error("cannot read '" + path.string() + "': " + std::strerror(errno));
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!current.empty()) words.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

fs::path executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("cannot locate the tomodachi executable (/proc/self/exe)");
  return exe.parent_path();
}

std::vector<std::string> string_list(const boost::json::value& value, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& element : value.as_array()) {
    std::string text(element.as_string());
    const std::string marker = "${prefix}";
    for (auto at = text.find(marker); at != std::string::npos; at = text.find(marker))
      text.replace(at, marker.size(), prefix);
    out.push_back(std::move(text));
  }
  return out;
}

/// `#include "x"` targets of `content` resolved against the including file's folder and
/// the declared include folders, and `#include <x>` targets found in the declared folders.
std::vector<fs::path> local_includes(const std::string& content, const fs::path& directory,
                                     const std::vector<std::string>& include_dirs) {
  std::vector<fs::path> found;
  std::istringstream lines(content);
  std::string line;
  while (std::getline(lines, line)) {
    std::size_t i = line.find_first_not_of(" \t");
    if (i == std::string::npos || line[i] != '#') continue;
    i = line.find_first_not_of(" \t", i + 1);
    if (i == std::string::npos || line.compare(i, 7, "include") != 0) continue;
    i = line.find_first_not_of(" \t", i + 7);
    if (i == std::string::npos || (line[i] != '"' && line[i] != '<')) continue;
    const bool quoted = line[i] == '"';
    const auto end = line.find(quoted ? '"' : '>', i + 1);
    if (end == std::string::npos) continue;
    const std::string name = line.substr(i + 1, end - i - 1);
    // "x": the including file's folder, then the declared include folders; <x>: only
    // the declared include folders (system and tomodachi headers are fingerprinted apart).
    std::vector<fs::path> candidates;
    if (quoted) candidates.push_back(directory / name);
    for (const auto& dir : include_dirs) candidates.push_back(fs::path(dir) / name);
    for (const auto& candidate : candidates) {
      std::error_code ec;
      if (fs::is_regular_file(candidate, ec)) {
        found.push_back(fs::weakly_canonical(candidate, ec));
        break;
      }
    }
  }
  return found;
}

/// Size and modification time of every public header: a change rebuilds the
/// precompiled header and the services.
std::string header_fingerprint(const std::vector<std::string>& header_dirs) {
  static std::mutex mutex;
  static std::string cached;
  std::lock_guard lock(mutex);
  if (!cached.empty()) return cached;
  std::vector<std::string> entries;
  for (const auto& dir : header_dirs) {
    const fs::path root = fs::path(dir) / "tomodachi";
    std::error_code ec;
    if (!fs::is_directory(root, ec)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root, ec)) {
      if (!entry.is_regular_file(ec)) continue;
      const auto time = fs::last_write_time(entry.path(), ec).time_since_epoch().count();
      entries.push_back(entry.path().string() + ":" + std::to_string(entry.file_size(ec)) + ":" +
                        std::to_string(time));
    }
  }
  std::sort(entries.begin(), entries.end());
  std::string all;
  for (const auto& e : entries) all += e + "\n";
  cached = encoding::sha256_hex(all);
  return cached;
}

std::vector<std::string> mode_flags(BuildMode mode) {
  std::vector<std::string> flags = mode == BuildMode::development
                                       ? std::vector<std::string>{"-O0"}
                                       : std::vector<std::string>{"-O2", "-DNDEBUG"};
  if (const char* extra = std::getenv("TOMODACHI_CXXFLAGS")) {
    for (auto& word : split_words(extra)) flags.push_back(std::move(word));
  }
  return flags;
}

/// RAII exclusive lock on a file (one compiler per cache entry at a time).
class FileLock {
 public:
  explicit FileLock(const fs::path& path)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

/// Builds (once per flag set and compiler) the precompiled <tomodachi/tomodachi.hpp>;
/// returns the header to `-include`, or "" when it cannot be built (then compile without).
std::string joined_digest(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words) text += word + "\n";
  return encoding::sha256_hex(text);
}

/// Builds (once per flag set and compiler) the precompiled <tomodachi/tomodachi.hpp>;
/// returns the header to `-include`, or "" when it cannot be built (then compile without).
std::string ensure_precompiled_header(const Toolchain& toolchain,
                                      const std::vector<std::string>& flags, std::string& output) {
  std::string key_text = toolchain.compiler + "\n" + toolchain.abi_tag + "\n" +
                         header_fingerprint(toolchain.header_dirs);
  for (const auto& flag : flags) key_text += "\n" + flag;
  const fs::path pch_root = fs::path(cache_dir()) / "pch";
  const fs::path dir = pch_root / encoding::sha256_hex(key_text).substr(0, 24);
  const fs::path header = dir / "tomodachi_pch.hpp";
  const fs::path gch = dir / "tomodachi_pch.hpp.gch";
  std::error_code ec;
  if (fs::exists(gch, ec)) return header.string();
  fs::create_directories(dir, ec);
  FileLock lock(dir / ".lock");
  if (fs::exists(gch, ec)) return header.string();
  {
    std::ofstream stub(header);
    stub << "// Precompiled by tomodachi run.\n#include <tomodachi/tomodachi.hpp>\n";
  }
  const BuildManifest manifest = {
      {"the compiler", encoding::sha256_hex(toolchain.compiler + "\n" + toolchain.abi_tag)},
      {"the tomodachi headers", header_fingerprint(toolchain.header_dirs)},
      {"the compile flags", joined_digest(flags)}};
  const fs::path last_manifest = pch_root / "last.manifest";
  BuildProgress progress(BuildProgress::Kind::precompiled_header, "",
                         change_reason(read_manifest(last_manifest), manifest, pch_root,
                                       "first build of the precompiled header"));
  std::vector<std::string> argv = {toolchain.compiler};
  argv.insert(argv.end(), flags.begin(), flags.end());
  const fs::path partial = dir / "tomodachi_pch.hpp.gch.partial";
  argv.insert(argv.end(), {"-x", "c++-header", header.string(), "-o", partial.string()});
  std::string pch_output;
  if (run_captured(argv, pch_output) != 0) {
    progress.finish(false);
    output += pch_output;
    return "";
  }
  fs::rename(partial, gch, ec);
  progress.finish(!ec);
  if (!ec) write_manifest(last_manifest, manifest);
  return ec ? "" : header.string();
}

/// The cache key's text, the same inputs by name (build_manifest.hpp) and the local files.
struct BuildInputs {
  std::string key_text;
  BuildManifest manifest;
  std::vector<std::string> files;
};

/// Reads every local file the build depends on once (the cache key hashes their content).
BuildInputs read_inputs(const fs::path& source_path, const ServiceDirectives& directives,
                        BuildMode mode, const Toolchain& toolchain) {
  BuildInputs inputs;
  std::vector<fs::path> pending = {source_path};
  for (const auto& extra : directives.sources) pending.emplace_back(extra);
  std::set<fs::path> seen;
  std::string& key_text = inputs.key_text;
  key_text = std::string(version) + "\n" + toolchain.abi_tag + "\n" + toolchain.compiler + "\n" +
             header_fingerprint(toolchain.header_dirs) + "\n";
  for (const auto& flag : mode_flags(mode)) key_text += flag + "\n";
  std::string directive_text;
  for (const auto& list : {directives.include_dirs, directives.libraries, directives.pkg_config,
                           directives.cxxflags}) {
    for (const auto& item : list) {
      key_text += item + "\n";
      directive_text += item + "\n";
    }
    directive_text += "\n";
  }
  // The same inputs by name, to say why a compile runs (build_manifest.hpp).
  inputs.manifest = {{"the tomodachi version", std::string(version) + " " + toolchain.abi_tag},
                     {"the compiler", toolchain.compiler},
                     {"the tomodachi headers", header_fingerprint(toolchain.header_dirs)},
                     {"the compile flags", joined_digest(mode_flags(mode))},
                     {"the tomodachi: directives", encoding::sha256_hex(directive_text)}};
  while (!pending.empty()) {
    const fs::path file = pending.back();
    pending.pop_back();
    if (!seen.insert(file).second) continue;
    const std::string content = read_file(file);
    const std::string digest = encoding::sha256_hex(content);
    key_text += file.string() + "\n" + digest + "\n";
    inputs.manifest[manifest_file_key(file.string())] = digest;
    inputs.files.push_back(file.string());
    for (auto& include : local_includes(content, file.parent_path(), directives.include_dirs)) {
      pending.push_back(std::move(include));
    }
  }
  return inputs;
}

}  // namespace

std::string cache_dir() {
  if (const char* dir = std::getenv("TOMODACHI_CACHE_DIR"); dir && *dir) return dir;
  if (const char* dir = std::getenv("XDG_CACHE_HOME"); dir && *dir)
    return std::string(dir) + "/tomodachi";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/tomodachi";
  return "/tmp/tomodachi-cache";
}

Toolchain Toolchain::load() {
  const fs::path dir = executable_dir();
  const fs::path file = dir.parent_path() / "share" / "tomodachi" / "toolchain.json";
  std::string content;
  try {
    content = read_file(file);
  } catch (const std::exception&) {
    throw Error("cannot compile service files: toolchain description '" + file.string() +
                "' is missing (was tomodachi installed completely?)");
  }
  const boost::json::value json = json::loads(content);
  const std::string prefix = fs::weakly_canonical(dir.parent_path()).string();
  Toolchain toolchain;
  toolchain.compiler = std::string(json.at("compiler").as_string());
  // Another compiler for service files, with the same flags (docs/cli.md: Clang 15 and 16
  // build services against the GCC-built library; both use libstdc++).
  if (const char* cxx = std::getenv("TOMODACHI_CXX"); cxx != nullptr && *cxx != '\0')
    toolchain.compiler = cxx;
  toolchain.compile_flags = string_list(json.at("compile_flags"), prefix);
  toolchain.link_flags = string_list(json.at("link_flags"), prefix);
  toolchain.header_dirs = string_list(json.at("header_dirs"), prefix);
  toolchain.abi_tag = library_abi_tag();
  return toolchain;
}

ServiceDirectives read_directives(const std::string& source) {
  ServiceDirectives directives;
  const fs::path directory = fs::absolute(source).parent_path();
  std::istringstream lines(read_file(source));
  std::string line;
  constexpr std::string_view marker = "// tomodachi:";
  while (std::getline(lines, line)) {
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line.compare(start, marker.size(), marker) != 0) continue;
    std::vector<std::string> words =
        split_words(std::string_view(line).substr(start + marker.size()));
    if (words.empty()) continue;
    const std::string kind = words.front();
    words.erase(words.begin());
    const auto absolute = [&](const std::string& p) {
      return (directory / p).lexically_normal().string();
    };
    if (kind == "sources") {
      for (auto& w : words) directives.sources.push_back(absolute(w));
    } else if (kind == "include-dirs") {
      for (auto& w : words) directives.include_dirs.push_back(absolute(w));
    } else if (kind == "libraries") {
      directives.libraries.insert(directives.libraries.end(), words.begin(), words.end());
    } else if (kind == "pkg-config") {
      directives.pkg_config.insert(directives.pkg_config.end(), words.begin(), words.end());
    } else if (kind == "cxxflags") {
      directives.cxxflags.insert(directives.cxxflags.end(), words.begin(), words.end());
    } else {
      throw Error("unknown directive '// tomodachi:" + kind + "' in '" + source +
                  "' (known: sources, include-dirs, libraries, pkg-config, cxxflags)");
    }
  }
  return directives;
}

int run_captured(const std::vector<std::string>& argv, std::string& output) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return -1;
  std::vector<char*> c_argv;
  for (const auto& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);
  const std::string exec_failure =
      "tomodachi: cannot execute the compiler '" + argv.front() + "'\n";
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return -1;
  }
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    // No listening socket leaks into the compiler (close_range needs Linux 5.9).
    if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
      const long limit = ::sysconf(_SC_OPEN_MAX);
      for (long fd = 3; fd < (limit > 0 ? limit : 65536); ++fd) ::close(static_cast<int>(fd));
    }
    ::execvp(c_argv[0], c_argv.data());
    [[maybe_unused]] auto ignored =
        ::write(STDERR_FILENO, exec_failure.data(), exec_failure.size());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

BuildResult build_service(const std::string& source, BuildMode mode, const Toolchain& toolchain,
                          const std::optional<std::string>& output_path) {
  BuildResult result;
  const fs::path source_path = fs::weakly_canonical(fs::absolute(source));
  const ServiceDirectives directives = read_directives(source_path.string());

  BuildInputs read = read_inputs(source_path, directives, mode, toolchain);
  std::string& key_text = read.key_text;
  BuildManifest& manifest = read.manifest;
  result.inputs = std::move(read.files);

  // pkg-config answers (package versions and paths) are inputs too. Compile flags go
  // before the sources, libraries after them: the linker (--as-needed) drops a library
  // named before the objects that use it.
  std::vector<std::string> pkg_config_cflags;
  std::vector<std::string> pkg_config_libs;
  if (!directives.pkg_config.empty()) {
    const auto ask_pkg_config = [&](const char* what, std::string& answer) {
      std::vector<std::string> pkg = {"pkg-config", what};
      pkg.insert(pkg.end(), directives.pkg_config.begin(), directives.pkg_config.end());
      if (run_captured(pkg, answer) == 0) return true;
      result.output += answer;
      return false;
    };
    std::string cflags_output;
    std::string libs_output;
    std::string version_output;
    if (!ask_pkg_config("--cflags", cflags_output) || !ask_pkg_config("--libs", libs_output) ||
        !ask_pkg_config("--modversion", version_output)) {
      return result;
    }
    key_text += cflags_output + libs_output + version_output;
    manifest["the pkg-config packages"] =
        encoding::sha256_hex(cflags_output + libs_output + version_output);
    pkg_config_cflags = split_words(cflags_output);
    pkg_config_libs = split_words(libs_output);
  }

  const std::string key = encoding::sha256_hex(key_text).substr(0, 32);
  const fs::path so_dir = fs::path(cache_dir()) / "so";
  std::error_code ec;
  fs::create_directories(so_dir, ec);
  const fs::path shared_object = so_dir / (source_path.stem().string() + "-" + key + ".so");
  result.shared_object = shared_object.string();
  const fs::path manifest_path =
      so_dir / (source_path.stem().string() + "-" +
                encoding::sha256_hex(source_path.string()).substr(0, 16) + ".manifest");

  const auto finish = [&](BuildResult& r) -> BuildResult& {
    if (r.ok && output_path) {
      fs::copy_file(shared_object, *output_path, fs::copy_options::overwrite_existing, ec);
      if (ec) {
        r.ok = false;
        r.output += "cannot write '" + *output_path + "': " + ec.message() + "\n";
      } else {
        r.shared_object = *output_path;
      }
    }
    return r;
  };

  if (fs::exists(shared_object, ec)) {
    result.ok = true;
    result.cached = true;
    write_manifest(manifest_path, manifest);
    return finish(result);
  }

  FileLock lock(so_dir / (key + ".lock"));
  if (fs::exists(shared_object, ec)) {
    result.ok = true;
    result.cached = true;
    write_manifest(manifest_path, manifest);
    return finish(result);
  }

  std::vector<std::string> flags = toolchain.compile_flags;
  for (const auto& flag : mode_flags(mode)) flags.push_back(flag);
  const std::string pch = ensure_precompiled_header(toolchain, flags, result.output);
  BuildProgress progress(
      BuildProgress::Kind::service_file, source,
      change_reason(read_manifest(manifest_path), manifest, source_path.parent_path(),
                    "first build of " + source_path.filename().string()));

  std::vector<std::string> argv = {toolchain.compiler};
  argv.insert(argv.end(), flags.begin(), flags.end());
  if (!pch.empty()) argv.insert(argv.end(), {"-include", pch, "-Winvalid-pch"});
  for (const auto& dir : directives.include_dirs) argv.push_back("-I" + dir);
  argv.insert(argv.end(), directives.cxxflags.begin(), directives.cxxflags.end());
  argv.insert(argv.end(), pkg_config_cflags.begin(), pkg_config_cflags.end());
  const fs::path partial = so_dir / (key + ".so.partial");
  argv.insert(argv.end(), {"-shared", "-o", partial.string(), source_path.string()});
  argv.insert(argv.end(), directives.sources.begin(), directives.sources.end());
  argv.insert(argv.end(), toolchain.link_flags.begin(), toolchain.link_flags.end());
  argv.insert(argv.end(), pkg_config_libs.begin(), pkg_config_libs.end());
  for (const auto& lib : directives.libraries) argv.push_back("-l" + lib);

  const int status = run_captured(argv, result.output);
  if (status != 0) {
    progress.finish(false);
    fs::remove(partial, ec);
    return result;
  }
  fs::rename(partial, shared_object, ec);
  if (ec) {
    progress.finish(false);
    result.output += "cannot store '" + shared_object.string() + "': " + ec.message() + "\n";
    return result;
  }
  progress.finish(true);
  write_manifest(manifest_path, manifest);
  result.ok = true;
  return finish(result);
}

}  // namespace tomodachi::cli
