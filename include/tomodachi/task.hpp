#pragma once
/// @file
/// Coroutine vocabulary of tomodachi: `Task<T>`, `sleep`, `run_blocking`, `spawn`.

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace tomodachi {

/// A coroutine running on the service loop. It is `boost::asio::awaitable<T>`, so
/// every Asio-based library composes with service code.
template <typename T = void>
using Task = boost::asio::awaitable<T>;

/// Suspends the calling coroutine for `duration` without blocking the loop.
Task<void> sleep(std::chrono::steady_clock::duration duration);

/// Suspends the calling coroutine for `seconds` (fractions allowed), like `asyncio.sleep`.
Task<void> sleep(double seconds);

namespace detail {
Task<void> run_blocking_erased(std::function<void()> job);
}  // namespace detail

/// Runs blocking `fn` on the worker thread pool and resumes on the loop with its
/// result (or rethrows its exception). Handler code stays lock-free: only `fn` runs
/// off the loop thread.
template <typename F>
Task<std::invoke_result_t<F&>> run_blocking(F fn) {
  using Result = std::invoke_result_t<F&>;
  if constexpr (std::is_void_v<Result>) {
    std::function<void()> job = std::move(fn);
    co_await detail::run_blocking_erased(std::move(job));
  } else {
    std::optional<Result> result;
    std::function<void()> job = [&result, &fn] { result.emplace(fn()); };
    co_await detail::run_blocking_erased(std::move(job));
    co_return std::move(*result);
  }
}

/// Starts `task` detached on the loop (like `asyncio.create_task`). An exception
/// escaping it is logged as `uncaught exception: ...` by logger `exception`.
/// `name` appears in that record. The task is not awaited at shutdown.
void spawn(Task<void> task, std::string name = "task");

}  // namespace tomodachi
