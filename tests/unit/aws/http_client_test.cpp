// The HTTP client against a local server: keep-alive reuse, stale pooled connections,
// timeouts and cancellation.

#include "aws/http_client.hpp"
#include "mini_http_server.hpp"
#include "peer_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/ssl.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace aws = tomodachi::aws;
using aws_test::CannedResponse;
using aws_test::RecordedRequest;
using aws_test::run;
using namespace std::chrono_literals;

namespace {
aws::HttpRequest get(std::string target) {
  return aws::HttpRequest{"GET", std::move(target), {}, ""};
}
}  // namespace

TEST(HttpClient, KeepAliveReusesOneConnection) {
  boost::asio::io_context io;
  aws_test::MiniHttpServer server(io, [](const RecordedRequest& r) {
    return CannedResponse{200, "ok " + r.target};
  });
  aws::HttpClient client(io.get_executor());
  const auto url = aws::Url::parse(server.url());
  for (int i = 0; i < 5; ++i) {
    auto response = run(io, client.send(url, get("/" + std::to_string(i)), 5s));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "ok /" + std::to_string(i));
  }
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(client.open_connections(), 1u);
  EXPECT_EQ(server.requests()[0].headers.at("host"), url.host_header);
}

TEST(HttpClient, ConnectionCloseIsHonoured) {
  boost::asio::io_context io;
  aws_test::MiniHttpServer server(io, [](const RecordedRequest&) {
    return CannedResponse{200, "bye", true};
  });
  aws::HttpClient client(io.get_executor());
  const auto url = aws::Url::parse(server.url());
  run(io, client.send(url, get("/"), 5s));
  run(io, client.send(url, get("/"), 5s));
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(client.open_connections(), 0u);
}

TEST(HttpClient, StalePooledConnectionIsRetriedOnce) {
  boost::asio::io_context io;
  aws_test::MiniHttpServer server(io, [](const RecordedRequest&) {
    CannedResponse response{200, "ok"};
    response.drop = true;
    return response;
  });
  aws::HttpClient client(io.get_executor());
  const auto url = aws::Url::parse(server.url());
  run(io, client.send(url, get("/a"), 5s));
  // Let the server's close reach us.
  boost::asio::steady_timer pause(io, 50ms);
  run(io,
      [&]() -> tomodachi::Task<void> { co_await pause.async_wait(boost::asio::use_awaitable); }());
  auto response = run(io, client.send(url, get("/b"), 5s));
  EXPECT_EQ(response.body, "ok");
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(HttpClient, ReadTimeout) {
  boost::asio::io_context io;
  aws_test::MiniHttpServer server(io, [](const RecordedRequest&) {
    CannedResponse response{200, "late"};
    response.delay = 2s;
    return response;
  });
  aws::HttpClientConfig config;
  config.read_timeout = 200ms;
  aws::HttpClient client(io.get_executor(), config);
  try {
    run(io, client.send(aws::Url::parse(server.url()), get("/"), 5s));
    FAIL() << "no timeout";
  } catch (const aws::AwsHttpError& error) {
    EXPECT_EQ(error.kind(), aws::AwsHttpError::Kind::timeout) << error.what();
  }
  EXPECT_EQ(client.open_connections(), 0u);
}

TEST(HttpClient, CancellationClosesTheConnection) {
  boost::asio::io_context io;
  aws_test::MiniHttpServer server(io, [](const RecordedRequest&) {
    CannedResponse response{200, "late"};
    response.delay = 5s;
    return response;
  });
  aws::HttpClient client(io.get_executor());
  boost::asio::cancellation_signal signal;
  std::exception_ptr failure;
  bool done = false;
  boost::asio::co_spawn(io, client.send(aws::Url::parse(server.url()), get("/"), 10s),
                        boost::asio::bind_cancellation_slot(
                            signal.slot(), [&](std::exception_ptr error, aws::HttpResponse) {
                              failure = error;
                              done = true;
                            }));
  boost::asio::steady_timer timer(io, 100ms);
  timer.async_wait([&](auto) { signal.emit(boost::asio::cancellation_type::terminal); });
  while (!done) io.run_one();
  ASSERT_TRUE(failure);  // (not cancelled, the call would get the late answer after 5 s)
  try {
    std::rethrow_exception(failure);
  } catch (const aws::AwsHttpError& error) {
    EXPECT_EQ(error.kind(), aws::AwsHttpError::Kind::cancelled) << error.what();
  }
  EXPECT_EQ(client.open_connections(), 0u);
}

TEST(HttpClient, PoolLimitQueuesRequests) {
  boost::asio::io_context io;
  aws_test::MiniHttpServer server(io, [](const RecordedRequest&) {
    CannedResponse response{200, "ok"};
    response.delay = 50ms;
    return response;
  });
  aws::HttpClientConfig config;
  config.max_connections = 2;
  aws::HttpClient client(io.get_executor(), config);
  const auto url = aws::Url::parse(server.url());
  int completed = 0;
  for (int i = 0; i < 6; ++i) {
    boost::asio::co_spawn(io, client.send(url, get("/"), 5s),
                          [&](std::exception_ptr error, aws::HttpResponse response) {
                            EXPECT_FALSE(error);
                            EXPECT_EQ(response.body, "ok");
                            ++completed;
                          });
  }
  while (completed < 6) io.run_one();
  EXPECT_EQ(server.connections(), 2);
}

namespace {

// A TLS server on loopback answering every request with "tls ok".
class TlsServer {
 public:
  TlsServer(boost::asio::io_context& io, const std::string& cert, const std::string& key)
      : context_(boost::asio::ssl::context::tls_server),
        acceptor_(io, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    context_.use_certificate_chain_file(cert);
    context_.use_private_key_file(key, boost::asio::ssl::context::pem);
    boost::asio::co_spawn(io, accept(), boost::asio::detached);
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }

 private:
  tomodachi::Task<void> accept() {
    for (;;) {
      boost::system::error_code error;
      auto socket = co_await acceptor_.async_accept(
          boost::asio::redirect_error(boost::asio::use_awaitable, error));
      if (error) co_return;
      boost::asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)),
                            boost::asio::detached);
    }
  }
  tomodachi::Task<void> serve(boost::asio::ip::tcp::socket socket) {
    namespace http = boost::beast::http;
    boost::beast::ssl_stream<boost::asio::ip::tcp::socket> stream(std::move(socket), context_);
    boost::system::error_code error;
    co_await stream.async_handshake(boost::asio::ssl::stream_base::server,
                                    boost::asio::redirect_error(boost::asio::use_awaitable, error));
    if (error) co_return;
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    co_await http::async_read(stream, buffer, request,
                              boost::asio::redirect_error(boost::asio::use_awaitable, error));
    if (error) co_return;
    http::response<http::string_body> response{http::status::ok, 11};
    response.body() = "tls ok";
    response.keep_alive(false);
    response.prepare_payload();
    co_await http::async_write(stream, response,
                               boost::asio::redirect_error(boost::asio::use_awaitable, error));
  }

  boost::asio::ssl::context context_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace

TEST(HttpClient, TlsWithPeerAndHostNameVerification) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("tomodachi-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto cert = (dir / "cert.pem").string();
  const auto key = (dir / "key.pem").string();
  const auto command =
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
      " -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0)
      << "the openssl command line tool is needed (Debian package openssl)";
  ::setenv("SSL_CERT_FILE", cert.c_str(), 1);  // the self-signed certificate is the only trusted CA

  boost::asio::io_context io;
  TlsServer server(io, cert, key);
  aws::HttpClient client(io.get_executor());
  const auto port = std::to_string(server.port());
  auto response =
      run(io, client.send(aws::Url::parse("https://localhost:" + port + "/"), get("/"), 10s));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "tls ok");
  // The certificate is for `localhost`, not for the address.
  try {
    run(io, client.send(aws::Url::parse("https://127.0.0.1:" + port + "/"), get("/"), 10s));
    FAIL() << "host name not verified";
  } catch (const aws::AwsHttpError& error) {
    EXPECT_EQ(error.kind(), aws::AwsHttpError::Kind::connect) << error.what();
    EXPECT_NE(std::string(error.what()).find("TLS handshake"), std::string::npos) << error.what();
  }
  ::unsetenv("SSL_CERT_FILE");
  std::filesystem::remove_all(dir);
}
