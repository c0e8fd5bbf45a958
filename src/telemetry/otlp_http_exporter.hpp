#pragma once
// OTLP/HTTP POSTs on the loop: one keep-alive connection, Content-Length bodies (never
// chunked), optional gzip, retries only for 429/502/503/504 (Retry-After honoured) and
// connection failures, within the caller's deadline. Failures are logged, never thrown.

#include "telemetry/config.hpp"

#include <tomodachi/task.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace tomodachi::telemetry {

/// A parsed http:// endpoint.
struct Endpoint {
  std::string host;
  std::string port;
  std::string target;
};
/// Throws ConfigError for anything but http://host[:port][/path].
Endpoint parse_endpoint(const std::string& url);

/// Retry-After as a delay: delta-seconds or an HTTP-date (relative to `now`).
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

/// gzip (RFC 1952) of `data`.
std::string gzip_compress(std::string_view data);

class OtlpHttpExporter {
 public:
  OtlpHttpExporter(boost::asio::any_io_executor executor, OtlpConfig config, Signal signal);
  ~OtlpHttpExporter();

  /// POSTs one encoded body. True when the collector accepted it (2xx).
  Task<bool> post(std::string body, std::chrono::steady_clock::time_point deadline);

  std::uint64_t failed_exports() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tomodachi::telemetry
