#include "cli/watcher.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <future>

namespace fs = std::filesystem;
using tomodachi::cli::Watcher;
using tomodachi::cli::WatcherOptions;

namespace {
// The upstream watcher_root fixture: file.py, __tmp__/file.py, configurable_ignored/file.py,
// empty/.gitignore — with C++ endings.
fs::path make_root() {
  const fs::path root =
      fs::path(testing::TempDir()) / ("watcher_root_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "__tmp__");
  fs::create_directories(root / "configurable_ignored");
  fs::create_directories(root / "empty");
  fs::create_directories(root / "build-x");
  std::ofstream(root / "file.cpp") << "int a;";
  std::ofstream(root / "__tmp__" / "file.cpp") << "int b;";
  std::ofstream(root / "configurable_ignored" / "file.cpp") << "int c;";
  std::ofstream(root / "empty" / ".gitignore") << "*";
  std::ofstream(root / "build-x" / "gen.cpp") << "int d;";
  std::ofstream(root / "notes.txt") << "not watched";
  return root;
}
std::size_t count(const fs::path& root, std::vector<std::string> ignored = {}) {
  WatcherOptions options;
  options.roots = {root.string()};
  options.ignored_dirs = std::move(ignored);
  return Watcher(options).watched_files().size();
}
}  // namespace

TEST(Watcher, RootsAndIgnoreRules) {
  const fs::path root = make_root();
  EXPECT_EQ(count(root), 2u);
  EXPECT_EQ(count(root / "empty"), 0u);
  EXPECT_EQ(count(root / "__tmp__"), 0u);
  EXPECT_EQ(count(root / "configurable_ignored"), 1u);
  EXPECT_EQ(count(root / "configurable_ignored", {"configurable_ignored"}), 0u);
  EXPECT_EQ(count(root, {"configurable_ignored"}), 1u);
}

TEST(Watcher, ReportsContentChangesNotTouches) {
  const fs::path root = make_root();
  WatcherOptions options;
  options.roots = {root.string()};
  Watcher watcher(options);
  EXPECT_TRUE(watcher.rescan().empty());
  fs::last_write_time(root / "file.cpp", fs::file_time_type::clock::now());
  EXPECT_TRUE(watcher.rescan().empty()) << "a touch is not a change";
  std::ofstream(root / "file.cpp") << "int a = 1;";
  std::ofstream(root / "new.hpp") << "#pragma once";
  fs::remove(root / "configurable_ignored" / "file.cpp");
  const auto changes = watcher.rescan();
  EXPECT_EQ(changes.updated, std::vector<std::string>{"./file.cpp"});
  EXPECT_EQ(changes.added, std::vector<std::string>{"./new.hpp"});
  EXPECT_EQ(changes.removed, std::vector<std::string>{"./configurable_ignored/file.cpp"});
}

TEST(Watcher, CallbackRunsOnChange) {
  const fs::path root = make_root();
  WatcherOptions options;
  options.roots = {root.string()};
  options.debounce_ms = 50;
  Watcher watcher(options);
  std::promise<tomodachi::cli::FileChanges> seen;
  auto future = seen.get_future();
  bool reported = false;
  watcher.start([&](const tomodachi::cli::FileChanges& changes) {
    if (!reported) {
      reported = true;
      seen.set_value(changes);
    }
  });
  std::ofstream(root / "file.cpp") << "int a = 2;";
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(future.get().updated, std::vector<std::string>{"./file.cpp"});
  watcher.stop();
}

TEST(Watcher, IgnoredFoldersByPath) {
  const fs::path root = make_root();
  fs::create_directories(root / "cache" / "pch");
  std::ofstream(root / "cache" / "pch" / "tomodachi_pch.hpp") << "#include <x>";
  WatcherOptions options;
  options.roots = {root.string()};
  EXPECT_EQ(Watcher(options).watched_files().size(), 3u);
  options.ignored_paths = {(root / "cache").string()};
  EXPECT_EQ(Watcher(options).watched_files().size(), 2u);
}

// Only files the watcher watches may start (or prolong) a change set: a log file written
// next to the service must not hold a reload back (issue 13, item 1).
TEST(Watcher, OnlyWatchedPathsCount) {
  const fs::path root = make_root();
  WatcherOptions options;
  options.roots = {root.string()};
  options.watched_file_endings = {"proto"};
  const Watcher watcher(options);
  EXPECT_TRUE(watcher.is_watched_path((root / "file.cpp").string()));
  EXPECT_TRUE(watcher.is_watched_path((root / "new" / "x.hpp").string()));
  EXPECT_TRUE(watcher.is_watched_path((root / "api.proto").string()));
  EXPECT_TRUE(watcher.is_watched_path((root / "newdir").string(), true));
  EXPECT_FALSE(watcher.is_watched_path((root / "run.log").string()));
  EXPECT_FALSE(watcher.is_watched_path((root / "access.log").string()));
  EXPECT_FALSE(watcher.is_watched_path((root / "notes.txt").string()));
  EXPECT_FALSE(watcher.is_watched_path((root / ".file.cpp.swp").string()));
  EXPECT_FALSE(watcher.is_watched_path((root / "__tmp__" / "file.cpp").string()));
  EXPECT_FALSE(watcher.is_watched_path((root / "build-x" / "gen.cpp").string()));
  EXPECT_FALSE(watcher.is_watched_path((root / ".git").string(), true));
  EXPECT_FALSE(watcher.is_watched_path("/elsewhere/file.cpp"));
}

// A trailing debounce with a maximum wait from the first event (time points, no sleeping).
TEST(Watcher, DebounceHasAMaximumWait) {
  using namespace std::chrono_literals;
  tomodachi::cli::Debounce debounce(150ms, 1000ms);
  const auto t0 = tomodachi::cli::Debounce::clock::time_point{} + 1h;
  EXPECT_FALSE(debounce.pending());
  debounce.event(t0);
  ASSERT_TRUE(debounce.pending());
  EXPECT_EQ(debounce.due(), t0 + 150ms);
  debounce.event(t0 + 100ms);
  EXPECT_EQ(debounce.due(), t0 + 250ms) << "trailing: quiet time after the last event";
  for (auto t = t0 + 100ms; t < t0 + 3s; t += 50ms) debounce.event(t);
  EXPECT_EQ(debounce.due(), t0 + 1000ms) << "a file that keeps changing waits at most 1 s";
  debounce.reset();
  EXPECT_FALSE(debounce.pending());
  debounce.event(t0 + 5s);
  EXPECT_EQ(debounce.due(), t0 + 5s + 150ms) << "a new change set starts its own wait";
}
