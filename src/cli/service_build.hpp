#pragma once
// Compiles service source files into cached shared objects (DESIGN.md §3).

#include <optional>
#include <string>
#include <vector>

namespace tomodachi::cli {

/// How the installed (or build-tree) library compiles service code, recorded at its
/// own build (like python3-config): share/tomodachi/toolchain.json next to bin/.
struct Toolchain {
  std::string compiler;
  std::vector<std::string> compile_flags;  // -std, -D, -I, -fPIC, ...
  std::vector<std::string> link_flags;     // -L, -rpath, -ltomodachi, ...
  std::vector<std::string> header_dirs;    // where <tomodachi/...> lives (fingerprinted)
  std::string abi_tag;

  /// Reads the toolchain file of this executable; throws tomodachi::Error naming it.
  static Toolchain load();
};

enum class BuildMode { development, production };

/// Extra inputs a service file declares in `// tomodachi:` comment lines (docs/cli.md):
///   // tomodachi:sources extra.cpp gen/person.pb.cc
///   // tomodachi:include-dirs gen
///   // tomodachi:libraries pq
///   // tomodachi:pkg-config libpqxx protobuf
///   // tomodachi:cxxflags -DFEATURE=1
struct ServiceDirectives {
  std::vector<std::string> sources;
  std::vector<std::string> include_dirs;
  std::vector<std::string> libraries;
  std::vector<std::string> pkg_config;
  std::vector<std::string> cxxflags;
};

/// Reads the directives of `source` (paths made absolute, relative to the file).
ServiceDirectives read_directives(const std::string& source);

struct BuildResult {
  bool ok = false;
  bool cached = false;
  std::string shared_object;        // path of the built .so
  std::string output;               // compiler output (shown verbatim on failure)
  std::vector<std::string> inputs;  // every local file the build depends on
};

/// Builds `source` (or returns the cached result: the cache check reads the files,
/// it never runs the preprocessor). `output_path` copies the result there.
BuildResult build_service(const std::string& source, BuildMode mode, const Toolchain& toolchain,
                          const std::optional<std::string>& output_path = std::nullopt);

/// The compile cache folder: $TOMODACHI_CACHE_DIR, else $XDG_CACHE_HOME/tomodachi,
/// else ~/.cache/tomodachi.
std::string cache_dir();

/// Runs `argv` with stdout+stderr captured and no inherited descriptors beyond 0-2.
/// Returns the exit status (or -1 when it could not run).
int run_captured(const std::vector<std::string>& argv, std::string& output);

}  // namespace tomodachi::cli
