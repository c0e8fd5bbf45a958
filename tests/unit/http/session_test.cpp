// The session over a real loopback socket, its server state inspected between the loop's
// steps (one thread): what an idle keep-alive connection holds, and that requests split
// over reads or pipelined are still served once it holds nothing.
#include "http/session.hpp"
#include "http/server_state.hpp"
#include "http_specs.hpp"

#include <tomodachi/http.hpp>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using tomodachi::http_impl::Connection;
using tomodachi::http_impl::ServerState;

class SessionService : public tomodachi::Service {
 public:
  SessionService() : Service("session") { http<&SessionService::hello>("GET", "/hello"); }
  tomodachi::Task<tomodachi::Response> hello(tomodachi::Request&) { co_return "hello"; }
};

/// One server state with keep-alive on, a listener whose connections run sessions, and a
/// client socket on the same loop.
class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = std::make_shared<ServerState>(service_);
    state_->pipeline.setup(http_test::http_specs(service_), {});
    state_->access_log.enabled = false;
    state_->limits.keep_alive = tomodachi::http_impl::KeepAliveConfig(75);
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::address_v4::loopback(), 0});
    acceptor_.listen();
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (!ec) asio::co_spawn(io_, run_session(state_, std::move(socket)), asio::detached);
    });
    client_.connect(acceptor_.local_endpoint());
  }

  void TearDown() override {
    boost::system::error_code ignored;
    client_.close(ignored);
    io_.run_for(std::chrono::seconds(1));  // the session sees the close and ends
  }

  void send(const std::string& bytes) { asio::write(client_, asio::buffer(bytes)); }

  /// Runs the loop until `count` answers (ending with the body `hello`) have come.
  std::string answers(int count) {
    std::string received;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto bodies = [&] {
      int found = 0;
      for (auto at = received.find("\r\n\r\nhello"); at != std::string::npos;
           at = received.find("\r\n\r\nhello", at + 1))
        ++found;
      return found;
    };
    while (bodies() < count && std::chrono::steady_clock::now() < until) {
      io_.run_for(std::chrono::milliseconds(5));
      while (client_.available() > 0) {
        char chunk[4096];
        received.append(chunk, client_.read_some(asio::buffer(chunk)));
      }
    }
    return received;
  }

  /// The one connection, once its session waits for the next request.
  Connection& parked() {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((state_->connections.empty() || !state_->connections.front()->parked) &&
           std::chrono::steady_clock::now() < until) {
      io_.run_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(state_->connections.size(), 1u);
    EXPECT_TRUE(state_->connections.front()->parked);
    return *state_->connections.front();
  }

  SessionService service_;
  asio::io_context io_;
  std::shared_ptr<ServerState> state_;
  tcp::acceptor acceptor_{io_};
  tcp::socket client_{io_};
};

TEST_F(SessionTest, AnIdleConnectionHoldsNoReadBufferAndTheSweepFreesItsHeadBuffer) {
  send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(answers(1).find("HTTP/1.1 200 OK"), std::string::npos);
  Connection& connection = parked();
  EXPECT_EQ(connection.buffer.capacity(), 0u);  // the request was read into the scratch
  EXPECT_GT(connection.out.capacity(), std::string().capacity());
  tomodachi::http_impl::sweep_idle_connections(*state_);
  EXPECT_GT(connection.out.capacity(), std::string().capacity());  // parked since this pass
  tomodachi::http_impl::sweep_idle_connections(*state_);
  EXPECT_EQ(connection.out.capacity(), std::string().capacity());  // idle for a whole pass

  send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");  // served as before
  EXPECT_NE(answers(1).find("HTTP/1.1 200 OK"), std::string::npos);
}

TEST_F(SessionTest, SplitAndPipelinedRequestsAfterTheScratch) {
  send("GET /hello HT");  // an unfinished request line: kept by the connection
  io_.run_for(std::chrono::milliseconds(20));
  send("TP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hel");
  io_.run_for(std::chrono::milliseconds(20));
  send("lo HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string received = answers(3);
  int ok = 0;
  for (auto at = received.find("HTTP/1.1 200 OK"); at != std::string::npos;
       at = received.find("HTTP/1.1 200 OK", at + 1))
    ++ok;
  EXPECT_EQ(ok, 3) << received;
  EXPECT_EQ(parked().buffer.size(), 0u);
}

}  // namespace
