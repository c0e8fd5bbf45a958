#pragma once
// The development-mode start banner (spec/cli.md §5).

#include <string>
#include <vector>

namespace tomodachi::cli {

struct BannerInput {
  std::vector<std::string> command_line;   // argv as typed
  std::vector<std::string> service_files;  // as resolved
  std::vector<std::string> config_files;
  std::string loop = "auto";
  std::string compiler;  // how service files are compiled ("" when nothing is compiled)
  bool colors = false;
  bool watcher = true;  // .cpp files are watched and rebuilt
};

std::string render_banner(const BannerInput& input);

/// True unless NO_COLOR / TOMODACHI_BANNER_NO_COLOR style variables say otherwise or
/// stdout is not a terminal.
bool banner_colors_wanted();

}  // namespace tomodachi::cli
