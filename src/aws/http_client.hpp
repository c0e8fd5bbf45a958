#pragma once
// A small HTTP/1.1 client on Boost.Beast for the AWS APIs: keep-alive connection pool per
// origin, TLS through Asio/OpenSSL with peer and host name verification, connect and read
// timeouts, cancellation through Asio's per-operation cancellation (a cancelled request
// closes its connection instead of returning it to the pool).

#include "aws/sigv4.hpp"
#include "aws/url.hpp"

#include <tomodachi/error.hpp>
#include <tomodachi/task.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tomodachi::aws {

struct HttpRequest {
  std::string method = "POST";
  std::string target = "/";  ///< origin-form: path[?query]
  std::vector<Header> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;

  /// The first header named `name` (case-insensitive), or "".
  std::string_view header(std::string_view name) const noexcept;
};

/// A request that did not produce a response.
class AwsHttpError : public tomodachi::Error {
 public:
  enum class Kind {
    connect,       ///< name resolution, TCP connect or TLS handshake failed
    timeout,       ///< no complete response in time
    disconnected,  ///< the server closed the connection or reset it mid-exchange
    protocol,      ///< unparsable or oversized response
    cancelled,     ///< the caller's coroutine was cancelled
  };
  AwsHttpError(Kind kind, const std::string& what) : tomodachi::Error(what), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

struct HttpClientConfig {
  std::chrono::steady_clock::duration connect_timeout = std::chrono::seconds(8);
  std::chrono::steady_clock::duration read_timeout = std::chrono::seconds(35);
  std::chrono::steady_clock::duration idle_timeout = std::chrono::seconds(15);
  std::size_t max_connections = 50;
  std::size_t max_response_size = std::size_t{32} << 20;
};

class HttpClient {
 public:
  explicit HttpClient(boost::asio::any_io_executor executor, HttpClientConfig config = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends `request` to `origin` (scheme, host and port of the URL are used) and reads the
  /// response within `timeout`. A Host header is added. Throws AwsHttpError.
  Task<HttpResponse> send(Url origin, HttpRequest request,
                          std::chrono::steady_clock::duration timeout);

  /// Closes the idle connections; requests in flight finish normally.
  void close_idle();

  /// Connections currently open (idle and in use).
  std::size_t open_connections() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tomodachi::aws
