#pragma once
// What a cached build depended on, kept next to the cache entries so that the next
// compile can say why it runs ("hello.cpp changed", "compile flags changed").

#include <filesystem>
#include <map>
#include <string>

namespace tomodachi::cli {

/// Inputs by name: files as "file:<absolute path>" → content digest, settings by their
/// readable name ("compile flags", "the tomodachi headers", ...) → digest.
using BuildManifest = std::map<std::string, std::string>;

std::string manifest_file_key(const std::string& absolute_path);

/// Empty when the file is missing or unreadable.
BuildManifest read_manifest(const std::filesystem::path& path);

/// Writes (atomically) unless the file already holds `manifest`.
void write_manifest(const std::filesystem::path& path, const BuildManifest& manifest);

/// Why `now` needs a compile after `previous`: changed files first ("hello.cpp changed",
/// "hello.cpp, util.hpp changed", paths relative to `base_dir`), then settings
/// ("compile flags changed"); `first_build` when there is no previous build.
std::string change_reason(const BuildManifest& previous, const BuildManifest& now,
                          const std::filesystem::path& base_dir, const std::string& first_build);

}  // namespace tomodachi::cli
