#pragma once
// One HTTP/1.1 connection: the socket, the read loop with its limits and timeouts
// (one watchdog timer), keep-alive, drain, lingering close and the writes. The HTTP
// meaning of a request is the pipeline's (pipeline.hpp); the session only moves bytes.

#include "http/request_state.hpp"

#include <tomodachi/task.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tomodachi::http_impl {

struct ServerState;

class Connection {
 public:
  using Clock = std::chrono::steady_clock;
  using tcp = boost::asio::ip::tcp;

  Connection(ServerState& server, tcp::socket&& socket);

  ServerState& server() noexcept { return *server_; }

  /// Head and body in one non-blocking send; a coroutine frame only when the socket
  /// buffer is full. False when the peer is gone.
  Task<bool> write_all(std::string_view head, std::string_view body = {});
  /// An answer without request (400, 413, 431, 503...): plain text (`headers` added),
  /// `Connection: close`, and the unread request bytes drained before closing.
  Task<bool> write_simple(int status, Headers headers = {});

  /// Moves the deadline of the current read (the watchdog re-arms only when earlier).
  void set_deadline(Clock::duration timeout);
  /// Shuts the socket down and cancels its operations.
  void cut();
  /// True while the peer has not closed its side (a non-blocking peek).
  bool peer_connected() const noexcept;
  /// Frees what a connection waiting for its next request does not need: the read buffer,
  /// the response head buffer and the last request's strings (the idle sweep calls it for
  /// a connection parked since before the previous sweep). Returns the bytes freed.
  std::size_t release_idle_memory() noexcept;

  enum class SendResult { done, failed, pending };
  /// One non-blocking send of head + body; `sent` counts the bytes written.
  SendResult send_now(std::string_view head, std::string_view body, std::size_t& sent);
  /// The rest of a send that did not fit into the socket buffer.
  Task<bool> send_rest(std::string_view head, std::string_view body, std::size_t sent);

  /// The socket's two addresses as text, read once per connection (a traced request's
  /// span attributes: no getsockname/getpeername and no formatting per request).
  struct SocketNames {
    std::string local_ip;
    std::int64_t local_port = 0;
    std::string peer_ip;
    std::int64_t peer_port = 0;
  };
  const SocketNames& socket_names();

  tcp::socket socket;
  /// One lazily re-armed timer per connection: moving the deadline later is a store,
  /// only an earlier deadline re-arms the timer (no timer work per request).
  boost::asio::steady_timer watchdog;
  Clock::time_point deadline = Clock::time_point::max();
  Clock::time_point armed = Clock::time_point::max();
  bool handling = false;   ///< a handler runs: no deadline applies
  bool timed_out = false;  ///< the watchdog cut the connection
  bool closed = false;
  boost::beast::flat_buffer buffer;
  std::string peer_ip;
  Clock::time_point accepted_at = Clock::now();
  std::uint64_t requests = 0;
  bool idle = true;           ///< waiting for the next request (safe to close at shutdown)
  bool upgraded = false;      ///< handed to a websocket
  bool linger = false;        ///< an error answer left request bytes unread: drain before closing
  bool reading_body = false;  ///< waiting for body bytes (the drain cancels that wait)
  /// Waiting for the first byte of a request with nothing buffered and no read pending on
  /// the buffers (a readiness wait): the idle sweep may free them meanwhile.
  bool parked = false;
  std::uint64_t parked_epoch = 0;  ///< the server's sweep epoch when it parked
  std::string out;                 ///< response head buffer, reused
  /// socket_names(), once read (only traced requests ask: a pointer keeps idle connections small)
  std::unique_ptr<SocketNames> socket_names_;
  /// The version of the current request's status line (`HTTP/1.1` until a head is read).
  std::string_view version = "HTTP/1.1";
  detail::RequestState request;

 private:
  ServerState* server_;
};

/// Serves one accepted connection until it closes. `server` outlives the coroutine.
Task<void> run_session(std::shared_ptr<ServerState> server, boost::asio::ip::tcp::socket socket);

/// One pass of the idle sweep (every second): frees the buffers of the connections parked
/// since before the previous pass, and gives freed heap back to the system
/// (`malloc_trim`) after a large release or a large drop in the connection count.
void sweep_idle_connections(ServerState& server);

}  // namespace tomodachi::http_impl
