#pragma once
// The process loop (one io_context, one thread), owned by the launcher.

#include <boost/asio/io_context.hpp>

namespace tomodachi::detail {

/// The loop of this process; created on first use.
boost::asio::io_context& loop();

/// A fresh loop for a (re)start in this process (tests start several runs).
void reset_loop();

}  // namespace tomodachi::detail
