// Coroutine helpers: sleep, run_blocking (worker pool), spawn, the loop.
#include "core/loop.hpp"

#include <tomodachi/logging.hpp>
#include <tomodachi/loop.hpp>
#include <tomodachi/task.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <mutex>

namespace tomodachi {
namespace detail {
namespace {
std::unique_ptr<boost::asio::io_context>& loop_storage() {
  static auto* storage = new std::unique_ptr<boost::asio::io_context>();
  return *storage;
}

boost::asio::thread_pool& worker_pool() {
  static auto* pool = new boost::asio::thread_pool(4);
  return *pool;
}
}  // namespace

boost::asio::io_context& loop() {
  auto& storage = loop_storage();
  if (!storage) storage = std::make_unique<boost::asio::io_context>(1);
  return *storage;
}

void reset_loop() { loop_storage() = std::make_unique<boost::asio::io_context>(1); }

Task<void> run_blocking_erased(std::function<void()> job) {
  auto executor = co_await boost::asio::this_coro::executor;
  std::exception_ptr error;
  auto initiation = [&job, &error, executor](auto handler) {
    auto work = boost::asio::make_work_guard(executor);
    boost::asio::post(worker_pool(), [&job, &error, handler = std::move(handler),
                                      work = std::move(work)]() mutable {
      try {
        job();
      } catch (...) {
        error = std::current_exception();
      }
      auto handler_executor = boost::asio::get_associated_executor(handler, work.get_executor());
      boost::asio::post(handler_executor, std::move(handler));
    });
  };
  co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(
      initiation, boost::asio::use_awaitable);
  if (error) std::rethrow_exception(error);
}

}  // namespace detail

Task<void> sleep(std::chrono::steady_clock::duration duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, duration);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

Task<void> sleep(double seconds) {
  const auto duration = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds < 0 ? 0 : seconds));
  co_await sleep(duration);
}

void spawn(Task<void> task, std::string name) {
  boost::asio::co_spawn(detail::loop(), std::move(task),
                        [name = std::move(name)](std::exception_ptr error) {
                          if (error)
                            log_uncaught_exception(error, {{"task", boost::json::string(name)}});
                        });
}

boost::asio::any_io_executor get_executor() { return detail::loop().get_executor(); }

}  // namespace tomodachi
