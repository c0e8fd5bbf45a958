// OTLP/HTTP exporter against a real loopback server: Content-Length bodies, gzip, retries
// only for 429/502/503/504 with Retry-After; the batch processor's bounded queue.
#include "telemetry/batch_processor.hpp"
#include "telemetry/otlp_http_exporter.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <zlib.h>

using namespace tomodachi;
using namespace tomodachi::telemetry;
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {
struct Received {
  std::string target, content_length, content_encoding, content_type, transfer_encoding, body;
};

// Answers each request with the next status of `statuses` (then 200).
struct Server {
  asio::ip::tcp::acceptor acceptor;
  std::vector<int> statuses;
  std::vector<Received> received;
  explicit Server(asio::io_context& io, std::vector<int> s)
      : acceptor(io, {asio::ip::make_address("127.0.0.1"), 0}), statuses(std::move(s)) {
    asio::co_spawn(io, serve(), asio::detached);
  }
  unsigned short port() const { return acceptor.local_endpoint().port(); }
  Task<void> serve() {
    while (true) {
      boost::system::error_code ec;
      auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      boost::beast::flat_buffer buffer;
      while (true) {
        http::request<http::string_body> request;
        co_await http::async_read(socket, buffer, request,
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        received.push_back({std::string(request.target()),
                            std::string(request[http::field::content_length]),
                            std::string(request[http::field::content_encoding]),
                            std::string(request[http::field::content_type]),
                            std::string(request[http::field::transfer_encoding]), request.body()});
        int status = received.size() <= statuses.size() ? statuses[received.size() - 1] : 200;
        http::response<http::string_body> response{static_cast<http::status>(status), 11};
        if (status == 503) response.set(http::field::retry_after, "0");
        response.prepare_payload();
        co_await http::async_write(socket, response, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      }
    }
  }
};

OtlpConfig config_for(unsigned short port, bool gzip = false) {
  OtlpConfig c;
  c.endpoint = "http://127.0.0.1:" + std::to_string(port) + "/v1/traces";
  c.headers = {{"x-api-key", "secret"}};
  c.gzip = gzip;
  return c;
}

std::string gunzip(const std::string& data) {
  z_stream zs{};
  inflateInit2(&zs, 15 + 16);
  std::string out(1 << 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  inflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

bool run_post(asio::io_context& io, OtlpHttpExporter& exporter, std::string body) {
  bool ok = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  // Named: the coroutine refers to the lambda's captures, which must outlive it.
  auto post = [&]() -> Task<void> {
    ok = co_await exporter.post(std::move(body), deadline);
    io.stop();
  };
  asio::co_spawn(io, post(), asio::detached);
  io.restart();
  io.run();
  return ok;
}
}  // namespace

TEST(OtlpHttpExporter, PostsWithContentLengthAndHeaders) {
  asio::io_context io;
  Server server(io, {});
  OtlpHttpExporter exporter(io.get_executor(), config_for(server.port()), Signal::traces);
  ASSERT_TRUE(run_post(io, exporter, "abc"));
  ASSERT_TRUE(run_post(io, exporter, "defg"));  // same keep-alive connection
  ASSERT_EQ(server.received.size(), 2u);
  EXPECT_EQ(server.received[0].target, "/v1/traces");
  EXPECT_EQ(server.received[0].content_length, "3");
  EXPECT_EQ(server.received[0].transfer_encoding, "");
  EXPECT_EQ(server.received[0].content_type, "application/x-protobuf");
  EXPECT_EQ(server.received[1].body, "defg");
}

TEST(OtlpHttpExporter, Gzip) {
  asio::io_context io;
  Server server(io, {});
  OtlpHttpExporter exporter(io.get_executor(), config_for(server.port(), true), Signal::traces);
  ASSERT_TRUE(run_post(io, exporter, std::string(1000, 'x')));
  EXPECT_EQ(server.received[0].content_encoding, "gzip");
  EXPECT_EQ(gunzip(server.received[0].body), std::string(1000, 'x'));
}

TEST(OtlpHttpExporter, RetriesOnlyRetryableStatuses) {
  asio::io_context io;
  Server retry(io, {503, 429});
  OtlpHttpExporter a(io.get_executor(), config_for(retry.port()), Signal::traces);
  EXPECT_TRUE(run_post(io, a, "x"));
  EXPECT_EQ(retry.received.size(), 3u);
  Server bad(io, {400});
  OtlpHttpExporter b(io.get_executor(), config_for(bad.port()), Signal::traces);
  EXPECT_FALSE(run_post(io, b, "x"));
  EXPECT_EQ(bad.received.size(), 1u);
  EXPECT_EQ(b.failed_exports(), 1u);
}

TEST(OtlpHttpExporter, RetryAfterForms) {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parse_retry_after("120", now)->count(), 120000);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now)->count(), 30000);
  EXPECT_FALSE(parse_retry_after("soon", now));
  EXPECT_THROW(parse_endpoint("ftp://x"), ConfigError);
  auto e = parse_endpoint("http://[::1]:4318/v1/logs");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, "4318");
  EXPECT_EQ(e.target, "/v1/logs");
}

TEST(BatchProcessor, BoundedQueueCountsDropsAndExportsInBatches) {
  asio::io_context io;
  std::vector<std::size_t> batches;
  BatchConfig config;
  config.max_queue_size = 10;
  config.max_export_batch_size = 4;
  config.schedule_delay = std::chrono::hours(1);  // only full batches and flush export
  auto processor = std::make_shared<BatchProcessor<int>>(
      io.get_executor(), config,
      [&](std::vector<int> batch, std::chrono::steady_clock::time_point) -> Task<bool> {
        batches.push_back(batch.size());
        co_return true;
      },
      "items");
  for (int i = 0; i < 15; ++i) processor->push(i);  // loop not running: 10 queued, 5 dropped
  EXPECT_EQ(processor->dropped(), 5u);
  auto flush = [&]() -> Task<void> {  // named: it must outlive its coroutine
    co_await processor->flush(std::chrono::steady_clock::now() + std::chrono::seconds(10));
  };
  asio::co_spawn(io, flush(), asio::detached);
  io.run();
  EXPECT_EQ(batches, (std::vector<std::size_t>{4, 4, 2}));
  EXPECT_EQ(processor->queued(), 0u);
}
