// Websockets (spec/http.md §10): upgrade, receive loop, write queue and close.

#include "http/websocket_session.hpp"

#include "core/encoding.hpp"
#include "http/request_state.hpp"
#include "http/server_state.hpp"
#include "http/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <system_error>

namespace tomodachi::http_impl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace bws = boost::beast::websocket;
using Clock = std::chrono::steady_clock;
using detail::WebsocketState;

namespace {

/// Starts the write timeout of the write about to begin.
void arm_write_timeout(const std::shared_ptr<WebsocketState>& state) {
  if (state->write_timeout <= Clock::duration::zero()) return;
  state->write_timer.expires_after(state->write_timeout);
  state->write_timer.async_wait(
      [weak = std::weak_ptr<WebsocketState>(state)](boost::system::error_code ec) {
        auto state = weak.lock();
        if (ec || !state) return;
        cut_websocket(*state);  // the stuck write fails, the receive loop ends
      });
}

/// RFC 6455 §4.2.1: the key is the base64 of 16 bytes - 22 characters of the alphabet
/// (the last one with its low 4 bits zero: A, Q, g or w) and `==`.
bool valid_websocket_key(std::string_view key) {
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (key.size() != 24 || !key.ends_with("==")) return false;
  for (char c : key.substr(0, 22)) {
    if (alphabet.find(c) == std::string_view::npos) return false;
  }
  return std::string_view("AQgw").find(key[21]) != std::string_view::npos;
}

/// Why a handshake is refused (status 0: it is valid).
struct HandshakeRefusal {
  int status = 0;
  Headers headers;
};

/// Refuses a handshake here so that a bad one gets the answer of every protocol error
/// (Connection: close, Server, plain text) instead of Beast's own: 400 for a request that
/// is no upgrade or whose one key is not valid; 426 naming the version spoken (13) for
/// another version (RFC 6455 §4.2.2).
HandshakeRefusal handshake_refusal(const RequestMessage& message) {
  auto key = message.find(bhttp::field::sec_websocket_key);
  auto version = message.find(bhttp::field::sec_websocket_version);
  if (!bws::is_upgrade(message) || key == message.end() ||
      message.count(bhttp::field::sec_websocket_key) != 1 ||
      !valid_websocket_key(std::string_view(key->value().data(), key->value().size())) ||
      version == message.end()) {
    return {400, {}};
  }
  if (version->value() != "13") return {426, {{"Sec-WebSocket-Version", "13"}}};
  return {};
}

/// A close frame with a code no endpoint may send (RFC 6455 §7.4): Beast fails the
/// connection with 1002 for most of them, but takes 5000 and above for valid and would
/// echo them. Those get 1002 here, then the connection ends (Beast's echo then fails).
void refuse_close_code(WebsocketState& state) {
  auto& socket = beast::get_lowest_layer(state.ws);
  boost::system::error_code ec;
  if (!state.write_mutex.is_locked()) {  // never into the middle of another write's frame
    static constexpr unsigned char close_1002[] = {0x88, 0x02, 0x03, 0xEA};
    asio::write(socket, asio::buffer(close_1002), ec);
  }
  state.closing = true;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
}

/// Hands the socket of `connection` to a websocket stream and accepts the handshake;
/// null when the handshake failed (logged as cancelled).
Task<std::shared_ptr<WebsocketState>> upgrade(Connection& connection, detail::RequestState& state) {
  const auto& limits = connection.server().limits;
  connection.upgraded = true;
  connection.watchdog.cancel();
  boost::system::error_code blocking_ec;
  connection.socket.non_blocking(false, blocking_ec);
  auto ws_state = std::make_shared<WebsocketState>(std::move(connection.socket));
  ws_state->id = state.websocket_id;
  auto& ws = ws_state->ws;
  ws.read_message_max(limits.websocket_max_message);
  // A dead or silent peer: a ping every half of the idle timeout, cut when nothing (not
  // even a pong) came for the whole of it. A peer that stops reading: the write timeout.
  bws::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(30);
  if (limits.websocket_idle_timeout.count() > 0) {
    timeouts.idle_timeout = limits.websocket_idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_state->write_timeout = limits.websocket_idle_timeout;
  } else {
    timeouts.idle_timeout = bws::stream_base::none();
    timeouts.keep_alive_pings = false;
  }
  ws.set_option(timeouts);
  ws.set_option(
      bws::stream_base::decorator([server = limits.server_header](bws::response_type& response) {
        response.set(bhttp::field::server, server);
      }));
  ws.control_callback(
      [weak = std::weak_ptr<WebsocketState>(ws_state)](bws::frame_type kind, beast::string_view) {
        auto locked = weak.lock();
        if (locked && kind == bws::frame_type::close && locked->ws.reason().code >= 5000)
          refuse_close_code(*locked);
      });
  auto [ec] = co_await ws.async_accept(*state.message, asio::as_tuple(asio::use_awaitable));
  if (ec) {
    connection.server().access_log.websocket(state, "cancelled", std::nullopt);
    cut_websocket(*ws_state);
    co_return nullptr;
  }
  // A client that pipelined frames right after its handshake: not supported, those
  // bytes are dropped (browsers never do this).
  connection.buffer.consume(connection.buffer.size());
  co_return ws_state;
}

/// Delivers the text messages to `on_receive` until the connection ends (binary frames
/// are not delivered; a message above the limit: Beast closes with 1009).
Task<void> receive_loop(WebsocketState& ws_state, WebsocketCallbacks& callbacks,
                        const Pipeline& pipeline, const detail::RequestState& state) {
  auto& ws = ws_state.ws;
  beast::flat_buffer frames;
  for (;;) {
    frames.clear();
    auto [ec, n] = co_await ws.async_read(frames, asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec) break;
    if (!ws.got_text() || !callbacks.on_receive) continue;
    std::string text = beast::buffers_to_string(frames.data());
    std::exception_ptr receive_error;
    try {
      auto task = callbacks.on_receive(std::move(text));
      co_await std::move(task);
    } catch (...) {
      receive_error = std::current_exception();
    }
    if (receive_error) pipeline.log_handler_error(receive_error, state);
  }
  if (callbacks.on_close) {
    std::exception_ptr close_error;
    try {
      auto task = callbacks.on_close();
      co_await std::move(task);
    } catch (...) {
      close_error = std::current_exception();
    }
    if (close_error) pipeline.log_handler_error(close_error, state);
  }
}

}  // namespace

Task<void> run_websocket(Connection& connection, Request& request) {
  auto& server = connection.server();
  auto& state = detail::request_state(request);
  auto started = Clock::now();
  state.websocket_id = encoding::uuid4();
  HandshakeRefusal refusal{!server.accepting_requests || server.stopping ? 503 : 0, {}};
  if (refusal.status == 0) refusal = handshake_refusal(*state.message);
  if (refusal.status != 0) {
    server.access_log.websocket(state, "cancelled", std::nullopt);
    auto answer = connection.write_simple(refusal.status, std::move(refusal.headers));
    co_await std::move(answer);
    co_return;
  }
  auto upgrading = upgrade(connection, state);
  std::shared_ptr<WebsocketState> ws_state = co_await std::move(upgrading);
  if (!ws_state) co_return;
  Websocket handle(ws_state);
  state.websocket = &handle;
  server.websockets.push_front(ws_state);
  auto position = server.websockets.begin();
  server.access_log.websocket(state, "open", std::nullopt);

  std::exception_ptr error;
  try {
    auto task = server.pipeline.run_websocket_handler(request);
    co_await std::move(task);
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    server.pipeline.log_handler_error(error, state);
    server.access_log.websocket(state, "error", std::nullopt);
    server.websockets.erase(position);
    auto closing = close_websocket(ws_state, bws::close_code::internal_error);
    co_await std::move(closing);
    co_return;
  }
  WebsocketCallbacks callbacks =
      state.websocket_callbacks ? std::move(*state.websocket_callbacks) : WebsocketCallbacks{};
  auto receiving = receive_loop(*ws_state, callbacks, server.pipeline, state);
  co_await std::move(receiving);
  server.websockets.erase(position);
  cut_websocket(*ws_state);
  server.access_log.websocket(state, "closed",
                              std::chrono::duration<double>(Clock::now() - started).count());
}

Task<void> close_websocket(std::shared_ptr<WebsocketState> state, std::uint16_t code,
                           std::string reason) {
  if (!state || state->closing) co_return;
  auto locking = state->write_mutex.lock();  // after the writes queued before it
  core::AsyncMutex::Lock lock = co_await std::move(locking);
  if (!state->closing) {
    state->closing = true;
    bws::close_reason close_reason;
    close_reason.code = code;
    close_reason.reason = beast::static_string<123>(reason.substr(0, 123));
    arm_write_timeout(state);
    auto [ec] = co_await state->ws.async_close(close_reason, asio::as_tuple(asio::use_awaitable));
    (void)ec;
    state->write_timer.cancel();
  }
}

void cut_websocket(WebsocketState& state) {
  state.closing = true;
  boost::system::error_code ignored;
  beast::get_lowest_layer(state.ws).close(ignored);
}

namespace {
// A free coroutine owning a reference to the connection state: what Websocket's sends
// return, so a send started from a temporary handle (`spawn(copy.send_str(...))`) never
// reads the handle after it is gone.
Task<void> websocket_write(std::shared_ptr<WebsocketState> state, std::string data, bool binary) {
  if (!state || state->closing) {
    throw std::system_error(std::make_error_code(std::errc::not_connected), "websocket is closed");
  }
  auto locking = state->write_mutex.lock();
  core::AsyncMutex::Lock lock = co_await std::move(locking);
  if (state->closing) {
    throw std::system_error(std::make_error_code(std::errc::not_connected), "websocket is closed");
  }
  state->ws.binary(binary);
  arm_write_timeout(state);
  auto [ec, n] =
      co_await state->ws.async_write(asio::buffer(data), asio::as_tuple(asio::use_awaitable));
  (void)n;
  state->write_timer.cancel();
  lock.unlock();
  if (ec) throw boost::system::system_error(ec, "websocket send failed");
}
}  // namespace

}  // namespace tomodachi::http_impl

namespace tomodachi {

Task<void> Websocket::send_str(std::string text) {
  return http_impl::websocket_write(state_, std::move(text), false);
}

Task<void> Websocket::send_bytes(std::string bytes) {
  return http_impl::websocket_write(state_, std::move(bytes), true);
}

Task<void> Websocket::close(int code, std::string reason) {
  return http_impl::close_websocket(state_, static_cast<std::uint16_t>(code), std::move(reason));
}

bool Websocket::closed() const noexcept {
  return !state_ || state_->closing || !state_->ws.is_open();
}

std::string_view Websocket::id() const noexcept {
  return state_ ? std::string_view(state_->id) : std::string_view();
}

}  // namespace tomodachi
