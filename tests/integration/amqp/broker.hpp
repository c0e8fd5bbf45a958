#pragma once
// Test support: the test RabbitMQ (address, rabbitmqctl on its node), running coroutines
// to completion, and a TCP proxy that can freeze a connection (a silent, dead peer).

#include <tomodachi/task.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace amqp_test {

struct Broker {
  std::string host;
  int port = 0;
  std::string peers_dir;
  std::string source_dir;

  /// The broker of the ctest fixture (or of TOMODACHI_TEST_PEERS_DIR), if one runs.
  static std::optional<Broker> from_env();

  /// rabbitmqctl on the test node; returns stdout, throws on failure.
  std::string ctl(const std::string& arguments) const;
  /// `list_queues name <columns...>` as rows of tab-separated fields, keyed by queue name.
  std::map<std::string, std::vector<std::string>> queues(const std::string& columns) const;
  /// `list_bindings source_name destination_name routing_key` rows.
  std::vector<std::vector<std::string>> bindings() const;
  /// Stops and starts the RabbitMQ application on its node (connections are closed).
  void restart_app() const;
};

/// A name unique to this test run.
std::string unique(const std::string& prefix);

/// Runs `task` on `io` until it completes (or throws after `timeout`).
template <typename T>
T run(boost::asio::io_context& io, tomodachi::Task<T> task,
      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("test task timed out");
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
  }
  return future.get();
}

/// Runs `io` until `predicate` holds or `timeout` passes; returns the predicate.
bool run_until(boost::asio::io_context& io, const std::function<bool()>& predicate,
               std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// Forwards 127.0.0.1:<port()> to the broker; `freeze()` stops forwarding without closing
/// anything (the broker looks dead to the client), `thaw()` forwards again, `cut()` closes
/// every connection.
class TcpProxy {
 public:
  TcpProxy(std::string target_host, int target_port);
  ~TcpProxy();
  int port() const noexcept { return port_; }
  void freeze() { frozen_ = true; }
  void thaw() { frozen_ = false; }
  void cut();

 private:
  void accept_loop();
  std::string host_;
  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> frozen_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int> cut_generation_{0};
  std::thread acceptor_;
  std::vector<std::thread> pumps_;
};

}  // namespace amqp_test
