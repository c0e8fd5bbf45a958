#pragma once
// Small loop-thread synchronisation helpers for the transport's coroutines (single
// threaded: no locks). Waiters park on steady timers that are cancelled to wake them.

#include <tomodachi/task.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace tomodachi::aws {

/// A one-shot event: `wait()` returns once `set()` was called.
class Event {
 public:
  explicit Event(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  bool is_set() const noexcept { return set_; }
  void set() {
    set_ = true;
    wake();
  }

  /// Returns true when the event is set, false when `timeout` passed first.
  Task<bool> wait(std::optional<std::chrono::steady_clock::duration> timeout = std::nullopt) {
    if (set_) co_return true;
    auto timer = std::make_shared<boost::asio::steady_timer>(executor_);
    if (timeout) {
      timer->expires_after(*timeout);
    } else {
      timer->expires_at(std::chrono::steady_clock::time_point::max());
    }
    waiters_.push_back(timer);
    boost::system::error_code ignored;
    co_await timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
    std::erase(waiters_, timer);
    co_return set_;
  }

 private:
  void wake() {
    for (auto& timer : waiters_) timer->cancel();
    waiters_.clear();
  }

  boost::asio::any_io_executor executor_;
  bool set_ = false;
  std::vector<std::shared_ptr<boost::asio::steady_timer>> waiters_;
};

/// Counts running tasks; `wait` returns when none is left (or at a deadline).
class WaitGroup {
 public:
  explicit WaitGroup(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  void add(int n = 1) noexcept { count_ += n; }
  void done() {
    if (--count_ <= 0) {
      count_ = 0;
      for (auto& timer : waiters_) timer->cancel();
      waiters_.clear();
    }
  }
  int count() const noexcept { return count_; }

  /// True when every task finished; false when `deadline` came first.
  Task<bool> wait(std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt) {
    while (count_ > 0) {
      if (deadline && std::chrono::steady_clock::now() >= *deadline) co_return false;
      auto timer = std::make_shared<boost::asio::steady_timer>(executor_);
      timer->expires_at(deadline.value_or(std::chrono::steady_clock::time_point::max()));
      waiters_.push_back(timer);
      boost::system::error_code ignored;
      co_await timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
      std::erase(waiters_, timer);
    }
    co_return true;
  }

 private:
  boost::asio::any_io_executor executor_;
  int count_ = 0;
  std::vector<std::shared_ptr<boost::asio::steady_timer>> waiters_;
};

/// A mutex for coroutines of one loop: `co_await lock()` waits its turn, `unlock()` passes on.
class AsyncMutex {
 public:
  explicit AsyncMutex(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  Task<void> lock() {
    while (locked_) {
      auto timer = std::make_shared<boost::asio::steady_timer>(
          executor_, std::chrono::steady_clock::time_point::max());
      waiters_.push_back(timer);
      boost::system::error_code ignored;
      co_await timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
      std::erase(waiters_, timer);
    }
    locked_ = true;
  }

  void unlock() {
    locked_ = false;
    if (!waiters_.empty()) waiters_.front()->cancel();
  }

 private:
  boost::asio::any_io_executor executor_;
  bool locked_ = false;
  std::vector<std::shared_ptr<boost::asio::steady_timer>> waiters_;
};

}  // namespace tomodachi::aws
