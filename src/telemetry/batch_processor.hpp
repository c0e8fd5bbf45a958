#pragma once
// A batch processor as the SDKs' (BatchSpanProcessor / BatchLogRecordProcessor) on one
// loop: a bounded queue, an export every schedule delay or as soon as a full batch is
// queued, one export in flight, drops counted and logged once per interval. push() is
// thread-safe and never blocks on I/O; the worker coroutine runs only while items wait,
// so an idle processor holds no timer.

#include "telemetry/config.hpp"

#include <tomodachi/logging.hpp>
#include <tomodachi/task.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace tomodachi::telemetry {

template <typename Item>
class BatchProcessor : public std::enable_shared_from_this<BatchProcessor<Item>> {
 public:
  using ExportFn =
      std::function<Task<bool>(std::vector<Item>, std::chrono::steady_clock::time_point)>;

  BatchProcessor(boost::asio::any_io_executor executor, BatchConfig config, ExportFn exporter,
                 std::string what)
      : executor_(std::move(executor)),
        config_(config),
        exporter_(std::move(exporter)),
        what_(std::move(what)),
        timer_(executor_) {}

  void push(Item item) {
    bool start = false;
    bool kick = false;
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() >= config_.max_queue_size) {
        ++dropped_;
        ++dropped_unlogged_;
        return;
      }
      queue_.push_back(std::move(item));
      start = !running_;
      running_ = true;
      kick = queue_.size() == config_.max_export_batch_size;
    }
    auto self = this->shared_from_this();
    if (start) {
      boost::asio::co_spawn(executor_, self->run(), boost::asio::detached);
    } else if (kick) {
      boost::asio::post(executor_, [self] { self->timer_.cancel(); });
    }
  }

  /// Exports everything queued, waiting at most until `deadline`.
  Task<void> flush(std::chrono::steady_clock::time_point deadline) {
    auto self = this->shared_from_this();
    flushing_ = true;
    timer_.cancel();
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mutex_);
        if (queue_.empty() && !exporting_) break;
        if (!running_) {
          running_ = true;
          boost::asio::co_spawn(executor_, self->run(), boost::asio::detached);
        }
      }
      boost::asio::steady_timer wait(executor_, std::chrono::milliseconds(5));
      boost::system::error_code ec;
      co_await wait.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    flushing_ = false;
  }

  std::uint64_t dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }
  std::size_t queued() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
  }

 private:
  Task<void> run() {
    auto self = this->shared_from_this();
    while (true) {
      bool wait = false;
      {
        std::lock_guard lock(mutex_);
        if (queue_.empty()) {
          running_ = false;
          co_return;
        }
        wait = queue_.size() < config_.max_export_batch_size && !flushing_;
      }
      if (wait) {
        timer_.expires_after(config_.schedule_delay);
        boost::system::error_code ec;
        co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      }
      std::vector<Item> batch;
      std::uint64_t dropped_now = 0;
      {
        std::lock_guard lock(mutex_);
        while (!queue_.empty() && batch.size() < config_.max_export_batch_size) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        dropped_now = std::exchange(dropped_unlogged_, 0);
        exporting_ = !batch.empty();
      }
      if (dropped_now > 0) {
        logger_.warning("opentelemetry queue full, dropped " + what_,
                        {{"dropped", static_cast<std::int64_t>(dropped_now)},
                         {"max_queue_size", static_cast<std::int64_t>(config_.max_queue_size)}});
      }
      if (!batch.empty()) {
        auto deadline = std::chrono::steady_clock::now() + config_.export_timeout;
        co_await exporter_(std::move(batch), deadline);
      }
      std::lock_guard lock(mutex_);
      exporting_ = false;
    }
  }

  boost::asio::any_io_executor executor_;
  BatchConfig config_;
  ExportFn exporter_;
  std::string what_;
  boost::asio::steady_timer timer_;
  mutable std::mutex mutex_;
  std::deque<Item> queue_;
  bool running_ = false;
  bool exporting_ = false;
  bool flushing_ = false;
  std::uint64_t dropped_ = 0;
  std::uint64_t dropped_unlogged_ = 0;
  Logger logger_{"tomodachi.opentelemetry"};
};

}  // namespace tomodachi::telemetry
