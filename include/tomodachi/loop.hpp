#pragma once
/// @file
/// Access to the service loop for code that integrates other Asio-based libraries.

#include <boost/asio/any_io_executor.hpp>

namespace tomodachi {

/// The executor of the process's single service loop (valid while services run).
/// Inside a handler, `co_await boost::asio::this_coro::executor` gives the same loop.
boost::asio::any_io_executor get_executor();

}  // namespace tomodachi
