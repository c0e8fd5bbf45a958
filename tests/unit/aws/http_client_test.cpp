// The HTTP client against a local server: keep-alive reuse, stale pooled connections,
// timeouts and cancellation.

#include "aws/http_client.hpp"
#include "mini_http_server.hpp"
#include "peer_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <gtest/gtest.h>

namespace aws = tomodachi::aws;
using aws_test::CannedResponse;
using aws_test::RecordedRequest;
using aws_test::run;
using namespace std::chrono_literals;

namespace {
aws::HttpRequest get(std::string target) { return aws::HttpRequest{"GET", std::move(target), {}, ""}; }
}  // namespace

TEST(HttpClient, KeepAliveReusesOneConnection) {
  boost::asio::io_context io;
  aws_test::MiniHttpServer server(io, [](const RecordedRequest& r) { return CannedResponse{200, "ok " + r.target}; });
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
  aws_test::MiniHttpServer server(io, [](const RecordedRequest&) { return CannedResponse{200, "bye", true}; });
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
  run(io, [&]() -> tomodachi::Task<void> { co_await pause.async_wait(boost::asio::use_awaitable); }());
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
  } catch (const aws::HttpError& error) {
    EXPECT_EQ(error.kind(), aws::HttpError::Kind::timeout) << error.what();
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
                        boost::asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr error, aws::HttpResponse) {
                          failure = error;
                          done = true;
                        }));
  boost::asio::steady_timer timer(io, 100ms);
  timer.async_wait([&](auto) { signal.emit(boost::asio::cancellation_type::terminal); });
  const auto started = std::chrono::steady_clock::now();
  while (!done) io.run_one();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  ASSERT_TRUE(failure);
  try {
    std::rethrow_exception(failure);
  } catch (const aws::HttpError& error) {
    EXPECT_EQ(error.kind(), aws::HttpError::Kind::cancelled) << error.what();
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
    boost::asio::co_spawn(io, client.send(url, get("/"), 5s), [&](std::exception_ptr error, aws::HttpResponse response) {
      EXPECT_FALSE(error);
      EXPECT_EQ(response.body, "ok");
      ++completed;
    });
  }
  while (completed < 6) io.run_one();
  EXPECT_EQ(server.connections(), 2);
}
