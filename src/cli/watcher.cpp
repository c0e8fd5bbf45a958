#include "cli/watcher.hpp"

#include <tomodachi/logging.hpp>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace tomodachi::cli {
namespace {

const std::vector<std::string> builtin_ignored_dirs = {
    "__pycache__", ".git",          ".svn",       "__ignored__", "__temporary__", "__tmp__",
    ".mypy_cache", ".pytest_cache", "CMakeFiles", ".cache",      "node_modules"};
const std::vector<std::string> builtin_endings = {".cpp", ".cc",   ".cxx", ".hpp",  ".h",
                                                  ".hh",  ".json", ".yml", ".yaml", ".html"};

std::uint32_t content_crc(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  const std::string data = content.str();
  return static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

}  // namespace

struct Watcher::Impl {
  WatcherOptions options;
  std::vector<std::string> ignored;
  std::vector<std::string> endings;
  mutable std::mutex mutex;
  std::map<std::string, std::uint32_t> files;  // absolute path → content crc
  int inotify_fd = -1;
  int stop_fd = -1;
  std::map<int, fs::path> watches;
  std::thread thread;

  bool ignored_name(const std::string& name) const {
    if (name.rfind("build", 0) == 0) return true;  // build trees: build/, build-asan/, ...
    return std::find(ignored.begin(), ignored.end(), name) != ignored.end();
  }

  bool ignored_path(const fs::path& path) const {
    const std::string text = path.string();
    if (text.find("/.") != std::string::npos) return true;

    for (const auto& part : path) {
      if (ignored_name(part.string())) return true;
    }
    return false;
  }

  bool watched_ending(const fs::path& path) const {
    const std::string name = path.filename().string();
    return std::any_of(endings.begin(), endings.end(), [&](const std::string& e) {
      return name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
    });
  }

  // Relative to the root: ignore rules apply below the root and to the root's own name.
  bool inside_ignored_folder(const fs::path& path) const {
    const std::string text = path.string();
    for (const auto& folder : options.ignored_paths) {
      if (text == folder || text.rfind(folder + "/", 0) == 0) return true;
    }
    return false;
  }

  bool ignored_below(const fs::path& root, const fs::path& path) const {
    if (inside_ignored_folder(path)) return true;
    return ignored_path(fs::path(root.filename()) / path.lexically_relative(root));
  }

  std::map<std::string, std::uint32_t> scan() {
    std::map<std::string, std::uint32_t> found;
    for (const auto& root_text : options.roots) {
      const fs::path root(root_text);
      std::error_code ec;
      if (!fs::is_directory(root, ec) || ignored_name(root.filename().string())) continue;
      add_watch(root);
      fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec),
          end;
      for (; it != end; it.increment(ec)) {
        if (ec) break;
        const fs::path path = it->path();
        if (ignored_below(root, path)) {
          if (it->is_directory(ec)) it.disable_recursion_pending();
          continue;
        }
        if (it->is_directory(ec)) {
          add_watch(path);
        } else if (it->is_regular_file(ec) && watched_ending(path)) {
          found[path.string()] = content_crc(path);
        }
      }
    }
    return found;
  }

  void add_watch(const fs::path& dir) {
    if (inotify_fd < 0) return;
    const int wd = inotify_add_watch(inotify_fd, dir.c_str(),
                                     IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                                         IN_MOVED_TO | IN_MODIFY | IN_DELETE_SELF | IN_ONLYDIR);
    if (wd >= 0) watches[wd] = dir;
  }

  bool is_watched_path(const fs::path& path, bool is_directory) const {
    const std::string text = path.string();
    for (const auto& root_text : options.roots) {
      if (text.size() <= root_text.size() || text.compare(0, root_text.size(), root_text) != 0 ||
          text[root_text.size()] != '/')
        continue;
      if (ignored_below(fs::path(root_text), path)) return false;
      return is_directory || watched_ending(path);
    }
    return false;
  }

  /// Reads the pending inotify events; true when one of them concerns a watched path.
  bool read_events() {
    alignas(inotify_event) char buffer[16384];
    bool watched = false;
    while (true) {
      const ssize_t n = ::read(inotify_fd, buffer, sizeof buffer);
      if (n <= 0) break;
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        if (event->mask & IN_Q_OVERFLOW) {
          watched = true;  // events were lost: rescan
          continue;
        }
        if (event->mask & IN_IGNORED) {
          watches.erase(event->wd);
          continue;
        }
        const auto dir = watches.find(event->wd);
        if (dir == watches.end() || event->len == 0) continue;
        if (is_watched_path(dir->second / event->name, (event->mask & IN_ISDIR) != 0))
          watched = true;
      }
    }
    return watched;
  }

  std::string display(const std::string& absolute) const {
    if (options.roots.empty()) return absolute;
    const std::string relative =
        fs::path(absolute).lexically_relative(options.roots.front()).string();
    if (relative.empty() || relative.rfind("..", 0) == 0) return absolute;
    return "./" + relative;
  }
};

Watcher::Watcher(WatcherOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->ignored = builtin_ignored_dirs;
  impl_->ignored.insert(impl_->ignored.end(), impl_->options.ignored_dirs.begin(),
                        impl_->options.ignored_dirs.end());
  impl_->endings = builtin_endings;
  for (auto ending : impl_->options.watched_file_endings) {
    if (!ending.empty() && ending.front() != '.') ending = "." + ending;
    impl_->endings.push_back(ending);
  }
  impl_->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  impl_->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  impl_->files = impl_->scan();
}

Watcher::~Watcher() {
  stop();
  if (impl_->inotify_fd >= 0) ::close(impl_->inotify_fd);
  if (impl_->stop_fd >= 0) ::close(impl_->stop_fd);
}

std::vector<std::string> Watcher::watched_files() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<std::string> out;
  for (const auto& [path, crc] : impl_->files) out.push_back(path);
  return out;
}

FileChanges Watcher::rescan() {
  auto now = impl_->scan();
  std::lock_guard lock(impl_->mutex);
  FileChanges changes;
  for (const auto& [path, crc] : now) {
    auto old = impl_->files.find(path);
    if (old == impl_->files.end()) {
      changes.added.push_back(impl_->display(path));
    } else if (old->second != crc) {
      changes.updated.push_back(impl_->display(path));
    }
  }
  for (const auto& [path, crc] : impl_->files) {
    if (now.find(path) == now.end()) changes.removed.push_back(impl_->display(path));
  }
  impl_->files = std::move(now);
  return changes;
}

bool Watcher::is_watched_path(const std::string& path, bool is_directory) const {
  return impl_->is_watched_path(fs::path(path), is_directory);
}

void Watcher::start(std::function<void(const FileChanges&)> on_change) {
  impl_->thread = std::thread([this, on_change = std::move(on_change)] {
    using clock = Debounce::clock;
    Debounce debounce(std::chrono::milliseconds(impl_->options.debounce_ms),
                      std::chrono::milliseconds(impl_->options.max_wait_ms));
    while (true) {
      pollfd fds[2] = {{impl_->inotify_fd, POLLIN, 0}, {impl_->stop_fd, POLLIN, 0}};
      int timeout = -1;
      if (debounce.pending()) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(debounce.due() - clock::now());
        timeout = static_cast<int>(std::max<long>(0, left.count() + 1));
      }
      const int ready = ::poll(fds, 2, timeout);
      if (ready < 0 && errno != EINTR) return;
      if (fds[1].revents & POLLIN) return;
      if (ready > 0 && (fds[0].revents & POLLIN) && impl_->read_events()) {
        debounce.event(clock::now());
      }
      if (debounce.pending() && clock::now() >= debounce.due()) {
        debounce.reset();
        const FileChanges changes = rescan();
        if (!changes.empty()) on_change(changes);
      }
    }
  });
}

void Watcher::stop() {
  if (impl_->thread.joinable()) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(impl_->stop_fd, &one, sizeof one);
    impl_->thread.join();
  }
}

void Debounce::event(clock::time_point now) {
  if (!pending_) first_ = now;
  last_ = now;
  pending_ = true;
}

Debounce::clock::time_point Debounce::due() const {
  return std::min(last_ + quiet_, first_ + max_wait_);
}

std::vector<std::string> default_watch_roots(const std::vector<std::string>& service_files,
                                             const std::vector<std::string>& extra_dirs) {
  std::vector<std::string> candidates;
  std::error_code ec;
  candidates.push_back(fs::canonical(fs::current_path(ec), ec).string());
  for (const auto& file : service_files) {
    candidates.push_back(fs::weakly_canonical(fs::absolute(file).parent_path(), ec).string());
  }
  for (const auto& dir : extra_dirs) candidates.push_back(fs::weakly_canonical(dir, ec).string());
  if (const char* include_path = std::getenv("CPLUS_INCLUDE_PATH")) {
    std::stringstream entries(include_path);
    std::string entry;
    while (std::getline(entries, entry, ':')) {
      if (!entry.empty()) candidates.push_back(fs::weakly_canonical(entry, ec).string());
    }
  }
  std::vector<std::string> roots;
  for (const auto& candidate : candidates) {
    const bool nested = std::any_of(roots.begin(), roots.end(), [&](const std::string& root) {
      return candidate == root || candidate.rfind(root + "/", 0) == 0;
    });
    if (!nested) roots.push_back(candidate);
  }
  return roots;
}

}  // namespace tomodachi::cli
