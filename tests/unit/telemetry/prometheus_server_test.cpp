// The Prometheus endpoint over real loopback sockets: every path, GET/HEAD/OPTIONS/405,
// content negotiation, gzip, keep-alive, bounded requests, bind failures, stop().
#include "telemetry/prometheus_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>

#include <thread>

using namespace tomodachi::telemetry;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct Loop {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~Loop() {
    work.reset();
    io.stop();
    thread.join();
  }
};

std::string render(const ScrapeRequest& request) {
  std::string names;
  for (const auto& n : request.names) names += n + ";";
  return std::string(request.openmetrics ? "om" : "text") + " " + names + "\n";
}

// Sends raw bytes on one connection and reads until the server closes it.
std::string talk(std::uint16_t port, const std::string& bytes) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  if (!bytes.empty()) asio::write(socket, asio::buffer(bytes));
  std::string out;
  char buffer[4096];
  boost::system::error_code ec;
  while (!ec) {
    std::size_t n = socket.read_some(asio::buffer(buffer), ec);
    out.append(buffer, n);
  }
  return out;
}

}  // namespace

TEST(PrometheusServer, AnswersEveryPathAsPrometheusClient) {
  Loop loop;
  PrometheusServer server(loop.io.get_executor(), render);
  server.listen("127.0.0.1", 0);
  ASSERT_EQ(server.endpoints().size(), 1u);
  const auto port = server.endpoints()[0].port();

  std::string text = talk(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(text.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_NE(text.find("Content-Length: 6\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\n\r\ntext \n"), std::string::npos);

  std::string om = talk(port,
                        "GET /anything/else?name[]=a&name%5B%5D=b HTTP/1.1\r\nHost: x\r\n"
                        "Accept: text/plain;q=0.5, application/openmetrics-text; version=1.0.0\r\n"
                        "Connection: close\r\n\r\n");
  EXPECT_NE(om.find("Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n"),
            std::string::npos)
      << om;
  EXPECT_NE(om.find("\r\n\r\nom a;b;\n"), std::string::npos) << om;

  std::string head = talk(port, "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(head.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Length: 6\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n") << head;  // no body

  std::string options = talk(port, "OPTIONS / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(options.find("Allow: OPTIONS,GET,HEAD\r\n"), std::string::npos) << options;
  std::string post =
      talk(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab");
  EXPECT_NE(post.find("HTTP/1.1 405 Method Not Allowed\r\n"), std::string::npos) << post;
  EXPECT_NE(post.find("# HTTP 405 Method Not Allowed: POST; use OPTIONS or GET\n"),
            std::string::npos);
  std::string favicon =
      talk(port, "GET /favicon.ico HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(favicon.find("Content-Length: 0\r\n"), std::string::npos) << favicon;

  std::string gzip = talk(
      port,
      "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br, GZIP;q=1\r\nConnection: close\r\n\r\n");
  EXPECT_NE(gzip.find("Content-Encoding: gzip\r\n"), std::string::npos) << gzip;
  auto body = gzip.substr(gzip.find("\r\n\r\n") + 4);
  ASSERT_GE(body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(body[0]), 0x1f);  // the gzip magic
  EXPECT_EQ(static_cast<unsigned char>(body[1]), 0x8b);

  // keep-alive: two scrapes on one connection
  std::string two = talk(
      port,
      "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(two.find("HTTP/1.1 200"), two.rfind("HTTP/1.1 200")) << two;
  server.stop();
}

TEST(PrometheusServer, BoundedRequestsAndIdleConnectionsAreClosed) {
  Loop loop;
  PrometheusServer server(loop.io.get_executor(), render, std::chrono::milliseconds(300));
  server.listen("127.0.0.1", 0);
  const auto port = server.endpoints()[0].port();
  // 16 KiB of headers: over the 8 KiB limit, the connection is closed without an answer
  std::string big =
      "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(16 * 1024, 'a') + "\r\n\r\n";
  EXPECT_EQ(talk(port, big).find("200 OK"), std::string::npos);
  // and a body over 8 KiB
  std::string body =
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 12000\r\n\r\n" + std::string(12000, 'b');
  EXPECT_EQ(talk(port, body).find("200 OK"), std::string::npos);
  // an idle connection is closed by the server: the read ends (instead of hanging)
  EXPECT_EQ(talk(port, ""), "");
}

TEST(PrometheusServer, BindFailureThrowsAndLocalhostBindsItsAddresses) {
  Loop loop;
  PrometheusServer first(loop.io.get_executor(), render);
  first.listen("localhost", 0);
  ASSERT_FALSE(first.endpoints().empty());
  std::uint16_t port = 0;
  for (const auto& e : first.endpoints()) {
    if (e.address() == asio::ip::make_address("127.0.0.1")) port = e.port();
  }
  ASSERT_NE(port, 0) << "localhost did not bind 127.0.0.1";
  PrometheusServer taken(loop.io.get_executor(), render);
  try {
    taken.listen("127.0.0.1", port);
    FAIL() << "a second bind on the same port succeeded";
  } catch (const boost::system::system_error& error) {
    EXPECT_EQ(error.code(), asio::error::address_in_use) << error.what();
    EXPECT_EQ(error.code().message(), "Address already in use");  // upstream's error_message
  }
  EXPECT_TRUE(taken.endpoints().empty());
  first.stop();
  EXPECT_TRUE(first.endpoints().empty());
}
