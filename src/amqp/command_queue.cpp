#include "amqp/command_queue.hpp"

#include <tomodachi/detail/assert.hpp>

#include <boost/asio/post.hpp>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace tomodachi::amqp_impl {

CommandQueue::CommandQueue(boost::asio::any_io_executor loop) : loop_(std::move(loop)) {
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

CommandQueue::~CommandQueue() {
  if (event_fd_ >= 0) ::close(event_fd_);
}

// The loop's side is one thread: the first one to queue a command.
void CommandQueue::assert_loop_thread() {
#if TOMODACHI_ASSERTIONS
  std::thread::id first{};
  const auto self = std::this_thread::get_id();
  loop_thread_.compare_exchange_strong(first, self);
  TOMODACHI_ASSERT(first == std::thread::id{} || first == self, "loop thread only");
#endif
}

void CommandQueue::push_from_loop(Command command) {
  assert_loop_thread();
  loop_commands_.push_back(std::move(command));
  if (flush_posted_) return;
  flush_posted_ = true;
  boost::asio::post(loop_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->hand_over();
  });
}

void CommandQueue::hand_over() {
  assert_loop_thread();
  flush_posted_ = false;
  if (loop_commands_.empty()) return;
  bool wake_up;
  {
    std::lock_guard lock(mutex_);
    wake_up = commands_.empty();
    if (wake_up) {
      commands_.swap(loop_commands_);
    } else {
      for (auto& command : loop_commands_) commands_.push_back(std::move(command));
    }
  }
  loop_commands_.clear();
  handed_over_.store(true);
  if (wake_up) wake();
}

void CommandQueue::push(Command command) {
  bool wake_up;
  {
    std::lock_guard lock(mutex_);
    wake_up = commands_.empty();
    commands_.push_back(std::move(command));
  }
  handed_over_.store(true);
  if (wake_up) wake();
}

void CommandQueue::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(event_fd_, &one, sizeof(one));
}

std::vector<Command> CommandQueue::take() {
  std::vector<Command> batch;
  std::lock_guard lock(mutex_);
  batch.swap(commands_);
  return batch;
}

bool CommandQueue::wait(int socket_fd, int timeout_ms) {
  std::array<pollfd, 2> fds{};
  fds[0] = {event_fd_, POLLIN, 0};
  nfds_t count = 1;
  if (socket_fd >= 0) {
    fds[1] = {socket_fd, POLLIN, 0};
    count = 2;
  }
  const int ready = ::poll(fds.data(), count, timeout_ms);
  if (ready < 0) return false;  // EINTR: the caller loops again
  if (fds[0].revents & POLLIN) {
    std::uint64_t value;
    [[maybe_unused]] auto read = ::read(event_fd_, &value, sizeof(value));
  }
  return count == 2 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP));
}

}  // namespace tomodachi::amqp_impl
