#pragma once
// A websocket connection (spec/http.md §10): the upgrade of an HTTP connection, the
// receive loop that feeds the handler's callbacks, and the one-at-a-time write queue
// behind tomodachi::Websocket.

#include "core/async.hpp"

#include <tomodachi/http.hpp>
#include <tomodachi/task.hpp>
#include <tomodachi/websocket.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace tomodachi::detail {

struct WebsocketState {
  explicit WebsocketState(boost::asio::ip::tcp::socket&& socket)
      : ws(std::move(socket)), write_timer(ws.get_executor()) {}
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws;
  std::string id;
  bool closing = false;
  /// One write at a time: a write holds the mutex, the others wait for it in arrival order.
  core::AsyncMutex write_mutex;
  /// A write that makes no progress for `write_timeout` cuts the connection (a peer that
  /// stopped reading must not hold every sender forever).
  boost::asio::steady_timer write_timer;
  std::chrono::steady_clock::duration write_timeout = std::chrono::steady_clock::duration::zero();
};

}  // namespace tomodachi::detail

namespace tomodachi::http_impl {

class Connection;

/// Upgrades the connection of a websocket route's request and runs it until it closes
/// (or answers the handshake with an error and closes).
Task<void> run_websocket(Connection& connection, Request& request);

/// Sends a close frame (after the writes queued before it) unless closing already.
Task<void> close_websocket(std::shared_ptr<detail::WebsocketState> state, std::uint16_t code,
                           std::string reason = {});

/// Closes the socket at once (the stragglers at the end of a stop).
void cut_websocket(detail::WebsocketState& state);

}  // namespace tomodachi::http_impl
