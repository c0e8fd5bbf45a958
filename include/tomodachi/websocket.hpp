#pragma once
/// @file
/// Websocket endpoints (spec/http.md §10). A handler registered with
/// `websocket<&Chat::connect>("/chat")` is called once per connection, after the
/// upgrade, with the connection and the request; it returns the callbacks for the
/// text messages it receives and for the end of the connection:
///
/// ```cpp
/// tomodachi::Task<tomodachi::WebsocketCallbacks> connect(tomodachi::Websocket& ws,
///                                                        tomodachi::Request& request) {
///   co_return tomodachi::WebsocketCallbacks{
///       .on_receive = [ws](std::string text) mutable -> tomodachi::Task<void> {
///         co_await ws.send_str("echo: " + text);
///       },
///       .on_close = []() -> tomodachi::Task<void> { co_return; }};
/// }
/// ```

#include <tomodachi/task.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace tomodachi {

namespace detail {
struct WebsocketState;
}

/// A websocket connection. A cheap, copyable handle: keep copies to send from anywhere
/// on the loop (broadcasts, background tasks) for as long as the connection is open.
/// Sends are queued and written in the order they were started. The tasks returned by
/// `send_str`, `send_bytes` and `close` hold the connection themselves, so they may
/// outlive the handle they came from (`tomodachi::spawn(copy.send_str(text))`).
class Websocket {
 public:
  Websocket() = default;
  explicit Websocket(std::shared_ptr<detail::WebsocketState> state) noexcept
      : state_(std::move(state)) {}

  /// Sends a text message. Throws std::system_error when the connection is closed, or
  /// when the send was stuck for `http.websocket_idle_timeout` (the connection is cut).
  Task<void> send_str(std::string text);
  /// Sends a binary message.
  Task<void> send_bytes(std::string bytes);
  /// Sends a close frame (`code`, `reason`) and ends the receive loop.
  Task<void> close(int code = 1000, std::string reason = {});

  /// True once the connection is closing or closed.
  bool closed() const noexcept;
  /// The connection id (uuid4) also logged as `websocket_id`.
  std::string_view id() const noexcept;

  explicit operator bool() const noexcept { return state_ != nullptr; }

 private:
  std::shared_ptr<detail::WebsocketState> state_;
};

/// What a websocket handler returns. Both callbacks are optional; binary messages are
/// not delivered (as upstream).
struct WebsocketCallbacks {
  std::function<Task<void>(std::string text)> on_receive;
  std::function<Task<void>()> on_close;
};

/// Deprecated, removed in the next release: it never had an option. Call
/// `websocket<&S::fn>(url)`; the overload taking it is `[[deprecated]]`.
struct WebsocketOptions {};

}  // namespace tomodachi
