#pragma once
// Development-mode file watcher (spec/cli.md §7, with inotify instead of polling).

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace tomodachi::cli {

struct WatcherOptions {
  std::vector<std::string> roots;
  std::vector<std::string> ignored_dirs;          // added to the built-in list
  std::vector<std::string> watched_file_endings;  // added to the built-in list
  std::vector<std::string> ignored_paths;         // folders never watched (absolute)
  int debounce_ms = 150;
};

struct FileChanges {
  std::vector<std::string> updated;  // paths relative to the first root, "./"-prefixed
  std::vector<std::string> added;
  std::vector<std::string> removed;
  bool empty() const { return updated.empty() && added.empty() && removed.empty(); }
};

class Watcher {
 public:
  explicit Watcher(WatcherOptions options);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  /// The files watched now (absolute paths), after the initial scan.
  std::vector<std::string> watched_files() const;

  /// Starts the watcher thread; `on_change` runs on it once per debounced change set
  /// in which some file's content changed or a file was added/removed.
  void start(std::function<void(const FileChanges&)> on_change);

  /// Rescans and reports what changed since the last scan (what the thread does after
  /// inotify events; exposed for tests).
  FileChanges rescan();

  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The roots of spec/cli.md §7: cwd, the folders of the service files, extra include
/// folders and $CPLUS_INCLUDE_PATH entries (nested roots collapsed).
std::vector<std::string> default_watch_roots(const std::vector<std::string>& service_files,
                                             const std::vector<std::string>& extra_dirs);

}  // namespace tomodachi::cli
