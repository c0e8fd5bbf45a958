#pragma once
// What the service loop and a connection's I/O thread share (DESIGN.md §2): the settings,
// the loop that results are posted to, and the flags and counters both threads read.
// Everything else belongs to one side: the loop's command batch (command_queue.hpp) or one
// of the I/O thread's parts (io_loop.hpp).

#include <tomodachi/detail/assert.hpp>
#include "amqp/connection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <utility>

namespace tomodachi::amqp_impl {

struct SharedState {
  SharedState(ConnectionSettings s, boost::asio::any_io_executor l)
      : settings(std::move(s)), loop(std::move(l)) {}

  const ConnectionSettings settings;
  const boost::asio::any_io_executor loop;

  std::atomic<bool> is_connected{false};
  std::atomic<bool> has_connected{false};  ///< once true, connect() returns at once
  std::atomic<bool> detached{false};       ///< the loop is going away: post nothing
  std::atomic<bool> stopping{false};       ///< the process stops: reconnect attempts are short
  std::atomic<int> socket_fd{-1};          ///< shut down from the loop to end a blocked call
  std::atomic<std::uint64_t> current_epoch{0};
  std::atomic<std::uint64_t> connects{0}, published{0}, confirmed{0}, deliveries{0};

  /// Set on the loop before the first command goes to the I/O thread, then read by the I/O
  /// thread only (on every delivery of a live consumer).
  std::function<void(Delivery&)> preprocessor;

  /// Set by the I/O thread when it starts; the parts of the I/O thread check it.
  std::thread::id io_thread;
  void assert_io_thread() const {
    TOMODACHI_ASSERT(std::this_thread::get_id() == io_thread, "I/O thread only");
  }

  /// Posts `handler(args...)` to the loop. Nothing is posted once the loop is going away:
  /// the handler is destroyed with its coroutine frame.
  template <typename Handler, typename... Args>
  void complete(Handler handler, Args... args) const {
    if (detached.load()) return;
    // The loop is the handler's executor (one thread runs it), so the posted function may
    // invoke the handler directly.
    boost::asio::post(loop, [handler = std::move(handler), ... args = std::move(args)]() mutable {
      std::move(handler)(std::move(args)...);
    });
  }
};

}  // namespace tomodachi::amqp_impl
