#pragma once
// Commands from the service loop to a connection's I/O thread. The loop collects the
// commands of one turn and hands them over together (one wake-up of the I/O thread for a
// whole batch of acks and publishes): a vector under a mutex, and an eventfd that the I/O
// thread polls together with its socket.

#include "amqp/commands.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tomodachi::amqp_impl {

class CommandQueue : public std::enable_shared_from_this<CommandQueue> {
 public:
  explicit CommandQueue(boost::asio::any_io_executor loop);
  ~CommandQueue();
  CommandQueue(const CommandQueue&) = delete;
  CommandQueue& operator=(const CommandQueue&) = delete;

  // -- the loop's side (one thread) --

  /// Queues `command` for the end of this turn of the loop (one post per turn).
  void push_from_loop(Command command);
  /// Hands what push_from_loop() collected to the I/O thread now.
  void hand_over();
  /// Hands one command over at once (the destructor's close, failure injection).
  void push(Command command);
  /// True once a command went to the I/O thread.
  bool handed_over() const noexcept { return handed_over_.load(); }

  // -- the I/O thread's side --

  /// Every command handed over so far, in order.
  std::vector<Command> take();
  /// Waits until a command arrives or `socket_fd` (-1: none) is readable, at most
  /// `timeout_ms` (-1: no limit). True when the socket is readable.
  bool wait(int socket_fd, int timeout_ms);

 private:
  void wake();
  void assert_loop_thread();

  const boost::asio::any_io_executor loop_;
  int event_fd_ = -1;
  std::mutex mutex_;
  std::vector<Command> commands_;  // guarded by mutex_
  std::atomic<bool> handed_over_{false};
  // -- loop thread only --
  std::vector<Command> loop_commands_;
  bool flush_posted_ = false;
  std::atomic<std::thread::id> loop_thread_{};
};

}  // namespace tomodachi::amqp_impl
