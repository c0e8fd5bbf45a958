#pragma once
// A small HTTP/1.1 server on loopback for tests of the HTTP client and of the credential
// endpoints: answers from a handler, records every request.

#include <tomodachi/task.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace aws_test {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct CannedResponse {
  int status = 200;
  std::string body;
  bool close = false;  ///< close the connection after answering
  bool drop = false;   ///< answer with keep-alive, then close anyway (a stale pooled connection)
  std::chrono::milliseconds delay{0};  ///< wait before answering
};

class MiniHttpServer {
 public:
  using Handler = std::function<CannedResponse(const RecordedRequest&)>;

  MiniHttpServer(boost::asio::io_context& io, Handler handler)
      : acceptor_(io, {boost::asio::ip::make_address("127.0.0.1"), 0}),
        handler_(std::move(handler)) {
    boost::asio::co_spawn(io, accept_loop(), boost::asio::detached);
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  const std::vector<RecordedRequest>& requests() const { return requests_; }
  int connections() const { return connections_; }
  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  tomodachi::Task<void> accept_loop() {
    for (;;) {
      boost::system::error_code error;
      auto socket = co_await acceptor_.async_accept(
          boost::asio::redirect_error(boost::asio::use_awaitable, error));
      if (error) co_return;
      ++connections_;
      boost::asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)),
                            boost::asio::detached);
    }
  }

  tomodachi::Task<void> serve(boost::asio::ip::tcp::socket socket) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      boost::system::error_code error;
      co_await http::async_read(socket, buffer, request,
                                boost::asio::redirect_error(boost::asio::use_awaitable, error));
      if (error) co_return;
      RecordedRequest recorded{
          std::string(request.method_string()), std::string(request.target()), {}, request.body()};
      for (const auto& field : request) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        recorded.headers[name] = std::string(field.value());
      }
      requests_.push_back(recorded);
      const auto canned = handler_(recorded);
      if (canned.delay.count() > 0) {
        boost::asio::steady_timer timer(socket.get_executor(), canned.delay);
        co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, error));
      }
      http::response<http::string_body> response{static_cast<http::status>(canned.status), 11};
      response.body() = canned.body;
      response.keep_alive(!canned.close);
      response.prepare_payload();
      co_await http::async_write(socket, response,
                                 boost::asio::redirect_error(boost::asio::use_awaitable, error));
      if (error || canned.close || canned.drop) co_return;
    }
  }

  boost::asio::ip::tcp::acceptor acceptor_;
  Handler handler_;
  std::vector<RecordedRequest> requests_;
  int connections_ = 0;
};

}  // namespace aws_test
