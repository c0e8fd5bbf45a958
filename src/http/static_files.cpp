// Static files (spec/http.md §11).

#include "http/static_files.hpp"

#include "http/response_head.hpp"
#include "http/router.hpp"
#include "http/server_state.hpp"
#include "http/session.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace tomodachi::http_impl {

std::string static_route_pattern(const detail::HttpStaticSpec& spec) {
  std::string pattern = strip_route_anchors(spec.pattern);
  if (pattern.find("(?P<filename>") == std::string::npos) pattern += "(?P<filename>.+?)";
  return pattern;
}

std::string static_base_directory(const detail::HttpStaticSpec& spec, const Service& service) {
  std::error_code error;
  std::filesystem::path directory = spec.path;
  // `tomodachi run` knows the service's source file: relative paths are resolved
  // against its folder (like upstream's service file path).
  if (std::filesystem::path(spec.raw_path).is_relative() && !service.source_file().empty() &&
      std::filesystem::path(service.source_file()).is_absolute()) {
    directory = std::filesystem::path(service.source_file()).parent_path() / spec.raw_path;
  }
  auto base = std::filesystem::canonical(directory, error);
  if (error || base == "/" || !std::filesystem::is_directory(base)) {
    throw ArgumentError("Invalid path '" + spec.path + "' for static route");
  }
  return base.string() + "/";
}

ByteRange parse_byte_range(std::string_view value, std::int64_t size) {
  ByteRange range{0, size - 1};
  if (!value.starts_with("bytes=") || value.find(',') != std::string_view::npos) return range;
  value.remove_prefix(6);
  auto dash = value.find('-');
  auto number = [](std::string_view text, std::int64_t& out_value) {
    if (text.empty()) return false;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out_value);
    return error == std::errc() && end == text.data() + text.size();
  };
  std::int64_t a = 0;
  std::int64_t b = 0;
  bool valid = dash != std::string_view::npos;
  if (valid && dash == 0) {  // suffix: the last n bytes
    valid = number(value.substr(1), b) && b > 0;
    if (valid) range.first = std::max<std::int64_t>(0, size - b);
  } else if (valid) {
    valid = number(value.substr(0, dash), a);
    if (valid) range.first = a;
    if (valid && dash + 1 < value.size()) {
      valid = number(value.substr(dash + 1), b) && b >= a;
      if (valid) range.last = std::min(b, size - 1);
    }
  }
  if (!valid) return ByteRange{0, size - 1};
  range.unsatisfiable = range.first >= size || size == 0;
  range.partial = true;
  return range;
}

namespace {

struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

/// The opened file of `filename` below `base`, or the status to answer (404/403).
struct OpenedFile {
  int error_status = 0;
  std::string real;
  struct stat info {};
};

OpenedFile open_inside(const std::string& base, std::string_view filename, FdCloser& closer) {
  OpenedFile file;
  // The path must stay inside the folder: no NUL, no `..` segment, and the real path
  // (symlinks resolved) strictly below the real base.
  bool suspicious = filename.empty() || filename.find('\0') != std::string_view::npos ||
                    filename.find('\\') != std::string_view::npos;
  std::string_view rest = filename;
  while (!suspicious && !rest.empty()) {
    auto slash = rest.find('/');
    if (rest.substr(0, slash) == "..") suspicious = true;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (!suspicious) {
    std::string candidate = base;
    candidate.append(filename.front() == '/' ? filename.substr(1) : filename);
    char resolved[PATH_MAX];
    if (::realpath(candidate.c_str(), resolved) == nullptr) {
      suspicious = true;
    } else {
      file.real = resolved;
      suspicious = file.real.size() <= base.size() || file.real.compare(0, base.size(), base) != 0;
    }
  }
  if (suspicious) {
    file.error_status = 404;
    return file;
  }
  // Open what was checked: O_NOFOLLOW refuses a last component swapped for a symlink since,
  // and fstat looks at the opened file itself (no check-then-use race on the name).
  closer.fd = ::open(file.real.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (closer.fd < 0) {
    file.error_status = errno == EACCES || errno == EPERM ? 403 : 404;
    return file;
  }
  if (::fstat(closer.fd, &file.info) != 0 || !S_ISREG(file.info.st_mode)) {
    file.error_status = 404;  // a directory, device or fifo
    return file;
  }
  int flags = ::fcntl(closer.fd, F_GETFL);
  if (flags >= 0)
    ::fcntl(closer.fd, F_SETFL, flags & ~O_NONBLOCK);  // it only kept open() off fifos
  return file;
}

/// Sends `length` bytes of `fd` from `first` in 256 KiB chunks; false when the connection
/// broke or the file could not be read (`read_failed`, logged).
Task<bool> send_file_bytes(Connection& connection, int fd, std::int64_t first, std::int64_t length,
                           const std::string& real, bool& read_failed) {
  if (first > 0 && ::lseek(fd, static_cast<off_t>(first), SEEK_SET) < 0) co_return false;
  constexpr std::int64_t chunk_size = 256 * 1024;
  std::string chunk(static_cast<std::size_t>(std::min(chunk_size, length)), '\0');
  std::int64_t remaining = length;
  while (remaining > 0) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::int64_t>(chunk_size, remaining));
    ssize_t got = 0;
    int read_errno = 0;
    if (length <= chunk_size) {
      got = ::read(fd, chunk.data(), want);  // one small read: not worth a thread hop
      read_errno = errno;
    } else {
      // Large files: the reads (maybe from a slow disk) run off the loop.
      auto job = [fd, data = chunk.data(), want, &read_errno]() -> ssize_t {
        ssize_t n = ::read(fd, data, want);
        read_errno = errno;
        return n;
      };
      auto read_task = run_blocking(std::move(job));
      got = co_await std::move(read_task);
    }
    if (got <= 0) {
      connection.server().http_logger.warning(
          "unable to read static file",
          {{"file_path", boost::json::string(real)},
           {"error_message", boost::json::string(got < 0 ? std::strerror(read_errno)
                                                         : "file shrank while being sent")}});
      read_failed = true;
      co_return false;
    }
    auto write =
        connection.write_all(std::string_view(chunk.data(), static_cast<std::size_t>(got)));
    if (!co_await std::move(write)) co_return false;
    remaining -= got;
  }
  co_return true;
}

std::string_view header_of(const RequestMessage& message, boost::beast::http::field name) {
  auto it = message.find(name);
  if (it == message.end()) return {};
  return std::string_view(it->value().data(), it->value().size());
}

}  // namespace

Task<StaticOutcome> serve_static(Connection& connection, const Route& route, bool head,
                                 const KeepAliveDecision& keep_alive) {
  auto& state = connection.request;
  StaticOutcome outcome;
  std::string_view filename;
  if (route.filename_group >= 0 &&
      static_cast<std::size_t>(route.filename_group) < state.match.groups.size()) {
    filename = state.match.groups[static_cast<std::size_t>(route.filename_group)];
  }
  FdCloser closer;
  OpenedFile file = open_inside(route.static_base, filename, closer);
  if (file.error_status != 0) {
    outcome.error_status = file.error_status;
    co_return outcome;
  }
  outcome.resolved_at = std::chrono::steady_clock::now();
  char last_modified_buffer[64];
  std::tm tm{};
  std::time_t mtime = file.info.st_mtime;
  gmtime_r(&mtime, &tm);
  const std::string_view last_modified(
      last_modified_buffer, std::strftime(last_modified_buffer, sizeof last_modified_buffer,
                                          "%a, %d %b %Y %H:%M:%S GMT", &tm));
  const std::int64_t size = static_cast<std::int64_t>(file.info.st_size);
  const auto& message = *state.message;
  const std::string_view server = connection.server().limits.server_header;
  const std::string_view version = connection.version;
  auto& out = connection.out;
  connection.handling = false;

  // Conditional request: an unchanged file is answered with 304. A range outside the
  // file with 416. Otherwise the head, then the bytes.
  ByteRange range = parse_byte_range(header_of(message, boost::beast::http::field::range), size);
  if (header_of(message, boost::beast::http::field::if_modified_since) == last_modified) {
    outcome.status = 304;
    begin_head(out, version, 304, reason_phrase(304), server);
    out += "Last-Modified: ";
    out += last_modified;
    out += "\r\n";
  } else if (range.unsatisfiable) {
    outcome.status = 416;
    begin_head(out, version, 416, reason_phrase(416), server);
    out += "Content-Range: bytes */" + std::to_string(size) + "\r\nContent-Length: 0\r\n";
  }
  if (outcome.status != 200) {
    end_head(out, keep_alive);
    bool sent = co_await connection.write_all(out);
    outcome.length = sent ? 0 : -1;
    co_return outcome;
  }
  const std::int64_t length = size == 0 ? 0 : range.last - range.first + 1;
  outcome.status = range.partial ? 206 : 200;
  begin_head(out, version, outcome.status, reason_phrase(outcome.status), server);
  out += "Content-Type: ";
  out += mime_type_for(file.real);
  out += "\r\nLast-Modified: ";
  out += last_modified;
  out += "\r\nAccept-Ranges: bytes\r\n";
  if (range.partial) {
    out += "Content-Range: bytes " + std::to_string(range.first) + "-" +
           std::to_string(range.last) + "/" + std::to_string(size) + "\r\n";
  }
  out += "Content-Length: " + std::to_string(length) + "\r\n";
  end_head(out, keep_alive);
  outcome.length = -1;
  bool head_sent = co_await connection.write_all(out);
  if (!head_sent) co_return outcome;
  if (!head && length > 0) {
    auto send =
        send_file_bytes(connection, closer.fd, range.first, length, file.real, outcome.read_failed);
    if (!co_await std::move(send)) co_return outcome;
  }
  outcome.length = length;
  co_return outcome;
}

}  // namespace tomodachi::http_impl
