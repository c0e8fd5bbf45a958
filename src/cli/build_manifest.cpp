#include "cli/build_manifest.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;

namespace tomodachi::cli {
namespace {

constexpr std::string_view file_prefix = "file:";

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  const std::size_t shown = std::min<std::size_t>(names.size(), 3);
  for (std::size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
  return out;
}

}  // namespace

std::string manifest_file_key(const std::string& absolute_path) {
  return std::string(file_prefix) + absolute_path;
}

BuildManifest read_manifest(const fs::path& path) {
  BuildManifest manifest;
  std::ifstream file(path);
  for (std::string line; std::getline(file, line);) {
    const auto tab = line.rfind('\t');
    if (tab != std::string::npos) manifest[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return manifest;
}

void write_manifest(const fs::path& path, const BuildManifest& manifest) {
  if (read_manifest(path) == manifest) return;
  std::ostringstream text;
  for (const auto& [key, value] : manifest) text << key << '\t' << value << '\n';
  const fs::path partial = path.string() + "." + std::to_string(::getpid()) + ".partial";
  {
    std::ofstream file(partial, std::ios::trunc);
    file << text.str();
    if (!file) return;
  }
  std::error_code ec;
  fs::rename(partial, path, ec);
  if (ec) fs::remove(partial, ec);
}

std::string change_reason(const BuildManifest& previous, const BuildManifest& now,
                          const fs::path& base_dir, const std::string& first_build) {
  if (previous.empty()) return first_build;
  std::vector<std::string> files;
  std::vector<std::string> settings;
  const auto note = [&](const std::string& key) {
    if (key.compare(0, file_prefix.size(), file_prefix) == 0) {
      const fs::path path(key.substr(file_prefix.size()));
      files.push_back(path.lexically_relative(base_dir).string());
    } else {
      settings.push_back(key);
    }
  };
  for (const auto& [key, value] : now) {
    const auto old = previous.find(key);
    if (old == previous.end() || old->second != value) note(key);
  }
  for (const auto& [key, value] : previous) {
    if (now.find(key) == now.end()) note(key);
  }
  std::vector<std::string> parts;
  if (!files.empty()) parts.push_back(join_names(files) + " changed");
  if (!settings.empty()) parts.push_back(join_names(settings) + " changed");
  if (parts.empty()) return "not in the compile cache";
  return parts.size() == 1 ? parts[0] : parts[0] + "; " + parts[1];
}

}  // namespace tomodachi::cli
