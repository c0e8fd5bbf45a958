#pragma once
// Development-mode file watcher (spec/cli.md §7, with inotify instead of polling).

#include <atomic>
#include <chrono>
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
  int debounce_ms = 150;   // quiet time after the last event on a watched file
  int max_wait_ms = 1000;  // ... but at most this long after the first one
};

/// When a change set is due: `quiet` after the last event on a watched file, but at
/// most `max_wait` after the first one, so a reload starts even while a watched file
/// keeps changing.
class Debounce {
 public:
  using clock = std::chrono::steady_clock;
  Debounce(std::chrono::milliseconds quiet, std::chrono::milliseconds max_wait)
      : quiet_(quiet), max_wait_(max_wait) {}
  void event(clock::time_point now);
  bool pending() const { return pending_; }
  clock::time_point due() const;  // meaningful while pending()
  void reset() { pending_ = false; }

 private:
  std::chrono::milliseconds quiet_;
  std::chrono::milliseconds max_wait_;
  bool pending_ = false;
  clock::time_point first_{};
  clock::time_point last_{};
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

  /// Whether an event on `path` (absolute) can start a change set: a file with a
  /// watched ending, or a folder, outside the ignored ones. Other files (logs written
  /// next to the service) never delay a reload.
  bool is_watched_path(const std::string& path, bool is_directory = false) const;

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
