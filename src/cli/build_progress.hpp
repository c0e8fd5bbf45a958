#pragma once
// What the compiler is doing, for `tomodachi run` and `tomodachi build` (issue 13, item 2):
// on a terminal a progress line with a live elapsed time; otherwise records of logger
// `tomodachi.build` at debug, and at info only for a compile longer than 2 s (so a warm
// start's records are upstream's).

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

namespace tomodachi::cli {

class BuildProgress {
 public:
  enum class Kind { precompiled_header, service_file };

  /// Starts showing a compile of `file` (a service file as given; ignored for the
  /// precompiled header) for `reason` ("first build of the precompiled header",
  /// "hello.cpp changed").
  BuildProgress(Kind kind, std::string file, std::string reason);
  ~BuildProgress();  // an unfinished compile counts as failed
  BuildProgress(const BuildProgress&) = delete;
  BuildProgress& operator=(const BuildProgress&) = delete;

  void finish(bool ok);

  /// Compiles longer than this are logged at info when stderr is not a terminal.
  static constexpr std::chrono::milliseconds slow_compile{2000};

 private:
  std::string subject() const;  // "hello.cpp" / "the precompiled header <tomodachi/...>"
  void tick();                  // the live line (terminal only)

  Kind kind_;
  std::string file_;
  std::string reason_;
  bool terminal_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point started_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ticker_ = false;
  std::thread ticker_;
};

/// The first error of a compiler's output with its source excerpt ("" when none).
std::string first_compiler_error(const std::string& output);

/// Prints a failed compile of `file`: its first error prominently, then the full output.
void print_compiler_failure(std::ostream& out, const std::string& file, const std::string& output);

}  // namespace tomodachi::cli
