#include "aws/http_client.hpp"

#include "aws/ascii.hpp"
#include "core/async.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <map>
#include <variant>

namespace tomodachi::aws {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii::to_lower(x) == ascii::to_lower(y);
         });
}

std::string origin_key(const Url& url) {
  return (url.tls ? "https://" : "http://") + url.host + ":" + std::to_string(url.port);
}

Clock::duration remaining(Clock::time_point deadline) {
  return std::max(Clock::duration::zero(), deadline - Clock::now());
}

// A closed or reset connection: the server went away, or a pooled connection went stale.
bool is_disconnect(const boost::system::error_code& error) {
  return error == http::error::end_of_stream || error == asio::error::eof ||
         error == asio::error::connection_reset || error == asio::error::broken_pipe ||
         error == asio::error::connection_aborted || error == asio::ssl::error::stream_truncated;
}

struct Connection {
  std::string key;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  Clock::time_point idle_since;
  bool reused = false;

  beast::tcp_stream& tcp() { return plain ? *plain : beast::get_lowest_layer(*secure); }
  void close() {
    boost::system::error_code ignored;
    tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    tcp().close();
  }
};

}  // namespace

std::string_view HttpResponse::header(std::string_view name) const noexcept {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

struct HttpClient::Impl : std::enable_shared_from_this<HttpClient::Impl> {
  Impl(asio::any_io_executor ex, HttpClientConfig cfg)
      : executor(std::move(ex)), config(cfg), ssl_context(asio::ssl::context::tls_client) {
    ssl_context.set_default_verify_paths();
    ssl_context.set_verify_mode(asio::ssl::verify_peer);
  }

  asio::any_io_executor executor;
  HttpClientConfig config;
  asio::ssl::context ssl_context;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
  std::size_t open = 0;
  core::Condition slot_freed;  // a connection was released or closed: a waiter looks again

  void wake_one() { slot_freed.notify_one(); }

  void discard(std::unique_ptr<Connection> connection) {
    if (!connection) return;
    connection->close();
    --open;
    wake_one();
  }

  void release(std::unique_ptr<Connection> connection) {
    connection->idle_since = Clock::now();
    connection->reused = true;
    idle[connection->key].push_back(std::move(connection));
    wake_one();
  }

  void prune_idle() {
    const auto now = Clock::now();
    for (auto it = idle.begin(); it != idle.end();) {
      auto& list = it->second;
      for (auto conn = list.begin(); conn != list.end();) {
        if (now - (*conn)->idle_since >= config.idle_timeout) {
          (*conn)->close();
          --open;
          conn = list.erase(conn);
        } else {
          ++conn;
        }
      }
      it = list.empty() ? idle.erase(it) : std::next(it);
    }
  }

  Task<std::unique_ptr<Connection>> connect(const Url& url, Clock::time_point deadline) {
    auto connection = std::make_unique<Connection>();
    connection->key = origin_key(url);
    const auto connect_deadline = std::min(deadline, Clock::now() + config.connect_timeout);

    asio::ip::tcp::resolver resolver(executor);
    asio::steady_timer timer(executor, remaining(connect_deadline));
    boost::system::error_code error;
    auto resolve = resolver.async_resolve(url.host, std::to_string(url.port),
                                          asio::redirect_error(asio::use_awaitable, error));
    boost::system::error_code timer_error;
    auto expire = timer.async_wait(asio::redirect_error(asio::use_awaitable, timer_error));
    auto resolved = co_await (std::move(resolve) || std::move(expire));
    if (resolved.index() == 1) {
      throw AwsHttpError(AwsHttpError::Kind::connect, "timed out resolving " + url.host);
    }
    if (error) {
      throw AwsHttpError(AwsHttpError::Kind::connect,
                         "cannot resolve " + url.host + ": " + error.message());
    }
    const auto endpoints = std::get<0>(resolved);

    if (url.tls) {
      connection->secure =
          std::make_unique<beast::ssl_stream<beast::tcp_stream>>(executor, ssl_context);
      if (!SSL_set_tlsext_host_name(connection->secure->native_handle(), url.host.c_str())) {
        throw AwsHttpError(AwsHttpError::Kind::connect, "cannot set TLS server name " + url.host);
      }
      connection->secure->set_verify_callback(asio::ssl::host_name_verification(url.host));
    } else {
      connection->plain = std::make_unique<beast::tcp_stream>(executor);
    }
    auto& tcp = connection->tcp();
    tcp.expires_after(remaining(connect_deadline));
    co_await tcp.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      const auto kind =
          error == beast::error::timeout ? "timed out connecting to " : "cannot connect to ";
      throw AwsHttpError(error == asio::error::operation_aborted ? AwsHttpError::Kind::cancelled
                                                                 : AwsHttpError::Kind::connect,
                         kind + url.host_header + ": " + error.message());
    }
    tcp.socket().set_option(asio::ip::tcp::no_delay(true), error);
    if (connection->secure) {
      tcp.expires_after(remaining(connect_deadline));
      co_await connection->secure->async_handshake(
          asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, error));
      if (error) {
        throw AwsHttpError(error == asio::error::operation_aborted ? AwsHttpError::Kind::cancelled
                                                                   : AwsHttpError::Kind::connect,
                           "TLS handshake with " + url.host_header + " failed: " + error.message());
      }
    }
    tcp.expires_never();
    co_return connection;
  }

  Task<std::unique_ptr<Connection>> acquire(const Url& url, Clock::time_point deadline) {
    const auto key = origin_key(url);
    for (;;) {
      prune_idle();
      auto found = idle.find(key);
      if (found != idle.end() && !found->second.empty()) {
        auto connection = std::move(found->second.back());
        found->second.pop_back();
        if (found->second.empty()) idle.erase(found);
        co_return connection;
      }
      if (open < config.max_connections) {
        ++open;
        std::unique_ptr<Connection> connection;
        std::exception_ptr failure;
        try {
          connection = co_await connect(url, deadline);
        } catch (...) {
          failure = std::current_exception();
        }
        if (failure) {
          --open;
          wake_one();
          std::rethrow_exception(failure);
        }
        co_return connection;
      }
      // Pool exhausted: close an idle connection to another origin, else wait.
      bool closed_other = false;
      for (auto& [other_key, list] : idle) {
        if (!list.empty()) {
          list.back()->close();
          list.pop_back();
          --open;
          closed_other = true;
          break;
        }
      }
      if (closed_other) continue;
      if (Clock::now() >= deadline) {
        throw AwsHttpError(AwsHttpError::Kind::timeout,
                           "no free connection to " + url.host_header + " in time");
      }
      co_await slot_freed.wait_until(deadline);
      auto cancelled = (co_await asio::this_coro::cancellation_state).cancelled();
      if (cancelled != asio::cancellation_type::none) {
        throw AwsHttpError(AwsHttpError::Kind::cancelled, "request cancelled");
      }
    }
  }

  template <typename Stream>
  Task<boost::system::error_code> exchange(Stream& stream, Connection& connection,
                                           http::request<http::string_body>& request,
                                           http::response_parser<http::string_body>& parser,
                                           Clock::time_point deadline, bool& sent_anything_back) {
    boost::system::error_code error;
    auto& tcp = connection.tcp();
    tcp.expires_after(std::min(remaining(deadline), config.read_timeout));
    co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return error;
    tcp.expires_after(std::min(remaining(deadline), config.read_timeout));
    co_await http::async_read_header(stream, connection.buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return error;
    sent_anything_back = true;
    tcp.expires_after(std::min(remaining(deadline), config.read_timeout));
    co_await http::async_read(stream, connection.buffer, parser,
                              asio::redirect_error(asio::use_awaitable, error));
    tcp.expires_never();
    co_return error;
  }

  Task<HttpResponse> send(Url url, HttpRequest request, Clock::duration timeout) {
    auto self = shared_from_this();  // keeps the pool alive while the coroutine runs
    const auto deadline = Clock::now() + timeout;
    http::request<http::string_body> message;
    message.method_string(request.method);
    message.target(request.target);
    message.version(11);
    message.set(http::field::host, url.host_header);
    for (const auto& header : request.headers) message.insert(header.name, header.value);
    message.body() = std::move(request.body);
    message.prepare_payload();
    message.keep_alive(true);

    for (int attempt = 0;; ++attempt) {
      auto connection = co_await acquire(url, deadline);
      http::response_parser<http::string_body> parser;
      parser.body_limit(config.max_response_size);
      parser.header_limit(64 * 1024);
      bool got_response = false;
      boost::system::error_code error;
      if (connection->secure) {
        error = co_await exchange(*connection->secure, *connection, message, parser, deadline,
                                  got_response);
      } else {
        error = co_await exchange(*connection->plain, *connection, message, parser, deadline,
                                  got_response);
      }
      if (!error) {
        auto& response = parser.get();
        HttpResponse result;
        result.status = static_cast<int>(response.result_int());
        for (const auto& field : response) {
          result.headers.push_back({std::string(field.name_string()), std::string(field.value())});
        }
        result.body = std::move(response.body());
        if (response.keep_alive() && parser.is_done()) {
          release(std::move(connection));
        } else {
          discard(std::move(connection));
        }
        co_return result;
      }
      const bool stale = connection->reused && !got_response && is_disconnect(error);
      discard(std::move(connection));
      if (stale && attempt == 0) continue;  // a pooled connection the server had closed
      if (error == asio::error::operation_aborted) {
        throw AwsHttpError(AwsHttpError::Kind::cancelled,
                           "request to " + url.host_header + " cancelled");
      }
      if (error == beast::error::timeout) {
        throw AwsHttpError(AwsHttpError::Kind::timeout,
                           "request to " + url.host_header + " timed out");
      }
      if (is_disconnect(error)) {
        throw AwsHttpError(
            AwsHttpError::Kind::disconnected,
            "server " + url.host_header + " closed the connection: " + error.message());
      }
      throw AwsHttpError(AwsHttpError::Kind::protocol,
                         "request to " + url.host_header + " failed: " + error.message());
    }
  }
};

HttpClient::HttpClient(asio::any_io_executor executor, HttpClientConfig config)
    : impl_(std::make_shared<Impl>(std::move(executor), config)) {}

HttpClient::~HttpClient() { close_idle(); }

Task<HttpResponse> HttpClient::send(Url origin, HttpRequest request, Clock::duration timeout) {
  auto impl = impl_;
  co_return co_await impl->send(origin, std::move(request), timeout);
}

void HttpClient::close_idle() {
  for (auto& [key, list] : impl_->idle) {
    for (auto& connection : list) {
      connection->close();
      --impl_->open;
    }
  }
  impl_->idle.clear();
}

std::size_t HttpClient::open_connections() const noexcept { return impl_->open; }

}  // namespace tomodachi::aws
