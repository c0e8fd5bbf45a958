#include "cli/build_progress.hpp"

#include <tomodachi/logging.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace tomodachi::cli {
namespace {

constexpr const char* label = "⌁ [build  ] ";

double seconds_since(std::chrono::steady_clock::time_point start) {
  const auto elapsed = std::chrono::steady_clock::now() - start;
  return std::chrono::duration<double>(elapsed).count();
}

std::string one_decimal(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", seconds);
  return text;
}

void write_stderr(const std::string& text) {
  std::fflush(stderr);
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(STDERR_FILENO, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

bool is_error_line(const std::string& line) {
  return line.find(": error: ") != std::string::npos ||
         line.find(": fatal error: ") != std::string::npos ||
         line.find("undefined reference to") != std::string::npos;
}

}  // namespace

BuildProgress::BuildProgress(Kind kind, std::string file, std::string reason)
    : kind_(kind),
      file_(std::move(file)),
      reason_(std::move(reason)),
      terminal_(::isatty(STDERR_FILENO) == 1),
      started_(std::chrono::steady_clock::now()) {
  if (!terminal_) {
    LogFields fields;
    if (kind_ == Kind::service_file) fields.push_back({"file_path", file_});
    fields.push_back({"reason", reason_});
    get_logger("tomodachi.build")
        .debug(
            kind_ == Kind::service_file ? "compiling service file" : "compiling precompiled header",
            std::move(fields));
    return;
  }
  tick();
  ticker_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_ticker_; }))
      tick();
  });
}

BuildProgress::~BuildProgress() {
  if (!finished_) finish(false);
}

std::string BuildProgress::subject() const {
  return kind_ == Kind::service_file ? file_ : "the precompiled header <tomodachi/tomodachi.hpp>";
}

void BuildProgress::tick() {
  write_stderr(std::string("\r\x1b[K") + label + "compiling " + subject() + " (" + reason_ + ") " +
               one_decimal(seconds_since(started_)));
}

void BuildProgress::finish(bool ok) {
  if (finished_) return;
  finished_ = true;
  const double seconds = seconds_since(started_);
  if (terminal_) {
    {
      std::lock_guard lock(mutex_);
      stop_ticker_ = true;
    }
    wake_.notify_all();
    if (ticker_.joinable()) ticker_.join();
    write_stderr(
        std::string("\r\x1b[K") + label +
        (ok ? "compiled " + subject() + " in " + one_decimal(seconds) + " (" + reason_ + ")\n"
            : "compiling " + subject() + " failed after " + one_decimal(seconds) + "\n"));
    return;
  }
  LogFields fields;
  if (kind_ == Kind::service_file) fields.push_back({"file_path", file_});
  fields.push_back({"reason", reason_});
  fields.push_back({"duration", std::round(seconds * 1000.0) / 1000.0});
  auto logger = get_logger("tomodachi.build");
  if (!ok) {
    logger.debug("compile failed", std::move(fields));
    return;
  }
  const char* message =
      kind_ == Kind::service_file ? "compiled service file" : "compiled precompiled header";
  const bool slow = seconds * 1000.0 > static_cast<double>(slow_compile.count());
  logger.log(slow ? LogLevel::info : LogLevel::debug, message, std::move(fields));
}

std::string first_compiler_error(const std::string& output) {
  std::istringstream lines(output);
  std::string line;
  std::string found;
  while (std::getline(lines, line)) {
    if (found.empty()) {
      if (is_error_line(line)) found = line + "\n";
      continue;
    }
    // GCC's source excerpt below the error: "    2 | int broken( {" and the caret line.
    if (line.empty() || line[0] != ' ' || line.find(" | ") == std::string::npos) break;
    found += line + "\n";
  }
  return found;
}

void print_compiler_failure(std::ostream& out, const std::string& file, const std::string& output) {
  const std::string first = first_compiler_error(output);
  if (first.empty()) {
    out << output << std::flush;
    return;
  }
  std::string indented;
  std::istringstream lines(first);
  for (std::string line; std::getline(lines, line);) indented += "  " + line + "\n";
  out << "\ncompiling " << file << " failed, the first error:\n\n"
      << indented << "\nfull compiler output:\n"
      << output << std::flush;
}

}  // namespace tomodachi::cli
