// One HTTP/1.1 connection (spec/http.md §3.1-§3.2 reading, §6 keep-alive, §7 limits,
// §9 drain): the read loop, the watchdog, the writes and the lingering close. What a
// request means is the pipeline's; static files and websockets take the connection over.

#include "http/session.hpp"

#include "http/access_log.hpp"
#include "http/framing.hpp"
#include "http/response_head.hpp"
#include "http/server_state.hpp"
#include "http/static_files.hpp"
#include "http/websocket_session.hpp"

#include <tomodachi/transport/health.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>

#include <sys/socket.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <array>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <optional>

namespace tomodachi::http_impl {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;

HttpCounters& http_counters() {
  static HttpCounters* instance =
      new HttpCounters();  // lives for the process (the context reads it)
  return *instance;
}

// ---- connection ----------------------------------------------------------------------

Connection::Connection(ServerState& server, tcp::socket&& s)
    : socket(std::move(s)), watchdog(socket.get_executor()), server_(&server) {}

void Connection::set_deadline(Clock::duration timeout) {
  deadline = Clock::now() + timeout;
  if (deadline < armed) watchdog.cancel();  // the watchdog re-arms at the earlier deadline
}

void Connection::cut() {
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.cancel(ignored);
}

bool Connection::peer_connected() const noexcept {
  int fd = const_cast<tcp::socket&>(socket).native_handle();
  if (fd < 0) return false;
  char byte;
  ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return true;
  if (n == 0) return false;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

const Connection::SocketNames& Connection::socket_names() {
  if (socket_names_) return *socket_names_;
  socket_names_ = std::make_unique<SocketNames>();
  SocketNames& names = *socket_names_;
  boost::system::error_code ec;
  if (auto local = socket.local_endpoint(ec); !ec) {
    names.local_ip = local.address().to_string();
    names.local_port = local.port();
  }
  if (auto peer = socket.remote_endpoint(ec); !ec) {
    names.peer_ip = peer.address().to_string();
    names.peer_port = peer.port();
  }
  return names;
}

std::size_t Connection::release_idle_memory() noexcept {
  std::size_t freed = 0;
  if (buffer.size() == 0 && buffer.capacity() > 0) {
    freed += buffer.capacity();
    buffer.shrink_to_fit();  // empty: deallocates
  }
  if (out.capacity() > std::string().capacity()) {
    freed += out.capacity();
    std::string().swap(out);
  }
  detail::RequestState fresh;  // the last request's strings, context and form
  fresh.router = request.router;
  fresh.connection = request.connection;
  request = std::move(fresh);
  return freed;
}

namespace {

// The sweep frees a connection parked since before the previous pass: idle for 1-2 s.
constexpr std::uint64_t idle_sweeps = 2;
// Heap trim after this much freed by one pass, or this many connections gone since the
// most seen; at most once per interval (a trim walks the heap: 4-5 ms for the 100 MB heap
// of a 10,000-connection storm, measured).
constexpr std::size_t trim_after_bytes = 4 * 1024 * 1024;
constexpr std::size_t trim_after_closed = 512;
constexpr auto trim_interval = std::chrono::seconds(5);

}  // namespace

void sweep_idle_connections(ServerState& server) {
  const std::uint64_t epoch = ++server.sweep_epoch;
  std::size_t freed = 0;
  for (Connection* connection : server.connections) {
    if (connection->parked && connection->parked_epoch + idle_sweeps <= epoch)
      freed += connection->release_idle_memory();
  }
  const std::size_t count = server.connections.size();
  server.connections_peak = std::max(server.connections_peak, count);
#if defined(__GLIBC__)
  const auto now = Clock::now();
  const bool large_drop = server.connections_peak >= count + trim_after_closed;
  if ((freed >= trim_after_bytes || large_drop) && now - server.trimmed_at >= trim_interval) {
    ::malloc_trim(0);  // glibc keeps freed heap otherwise (its peak stays resident)
    server.trimmed_at = now;
    server.connections_peak = count;
  }
#else
  (void)freed;
#endif
}

Connection::SendResult Connection::send_now(std::string_view head, std::string_view body,
                                            std::size_t& sent) {
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
  boost::system::error_code ec;
  sent = socket.write_some(buffers, ec);  // non-blocking: the common case ends here
  if (!ec && sent == head.size() + body.size()) return SendResult::done;
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again)
    return SendResult::failed;
  return SendResult::pending;
}

Task<bool> Connection::send_rest(std::string_view head, std::string_view body, std::size_t sent) {
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
  if (sent >= head.size()) {
    buffers[0] = asio::const_buffer();
    buffers[1] = asio::buffer(body.substr(sent - head.size()));
  } else {
    buffers[0] = asio::buffer(head.substr(sent));
  }
  set_deadline(server_->limits.body_timeout);
  auto [write_ec, written] =
      co_await asio::async_write(socket, buffers, asio::as_tuple(asio::use_awaitable));
  (void)written;
  co_return !write_ec;
}

Task<bool> Connection::write_all(std::string_view head, std::string_view body) {
  std::size_t sent = 0;
  switch (send_now(head, body, sent)) {
    case SendResult::done:
      co_return true;
    case SendResult::failed:
      co_return false;
    case SendResult::pending:
      break;
  }
  bool ok = co_await send_rest(head, body, sent);
  co_return ok;
}

Task<bool> Connection::write_simple(int status, Headers headers) {
  linger = true;  // request bytes may be left unread: drain them before closing
  WireResponse wire = status_response(status, status == 500);
  wire.headers = std::move(headers);
  server_->access_log.protocol_error(peer_ip, status, static_cast<std::int64_t>(wire.body.size()));
  std::string_view body = format_response(out, version, server_->limits.server_header, wire, false,
                                          KeepAliveDecision{}, true);
  bool ok = co_await write_all(out, body);
  co_return ok;
}

namespace {

/// A request in flight, counted from its parsed head on (like upstream's middleware task):
/// a body still being uploaded when the stop begins is waited for, not cut.
struct ActiveRequest {
  explicit ActiveRequest(ServerState& server) : server(server) {
    ++server.active_requests;
    http_counters().total.add();
    http_counters().current.add();
  }
  ~ActiveRequest() {
    --server.active_requests;
    http_counters().current.sub();
  }
  ServerState& server;
};

constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
/// Larger read or head buffers are released before the next request.
constexpr std::size_t max_kept_buffer = 128 * 1024;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- session -------------------------------------------------------------------------

class Session {
 public:
  Session(std::shared_ptr<ServerState> server, tcp::socket socket)
      : server_(std::move(server)),
        connection_(std::make_shared<Connection>(*server_, std::move(socket))),
        framer_(server_->limits.framing) {}

  Task<void> run();

 private:
  using State = RequestFramer::State;
  enum class BodyPlan { read, read_after_continue, skip, refuse };

  void open();
  bool begin_request();
  State feed_buffered();
  enum class ScratchRead { fed, again, ended };
  ScratchRead read_scratch();
  State take_scratch(std::string_view bytes);
  Task<void> end_unfinished_head();
  bool body_complete(BodyPlan plan);
  void sniff_version(std::string_view bytes);
  bool admit();
  BodyPlan plan_body() const;
  void log_protocol_error(int status) const;
  void log_body_cut_short();
  Task<std::optional<WireResponse>> answer_static(Request& request, const Route& route);
  std::optional<std::string_view> prepare_answer(const WireResponse& wire, bool force_close);
  bool log_answer(bool written);
  Task<void> close();

  std::shared_ptr<ServerState> server_;
  std::shared_ptr<Connection> connection_;
  std::list<Connection*>::iterator position_;
  RequestFramer framer_;
  AccessLogEntry entry_;
  Clock::time_point started_;
  Clock::time_point handler_started_;
  bool keep_alive_ = false;
  bool request_line_seen_ = false;
  bool quiet_ = false;  ///< a health path: no access-log record
};

/// Arms the connection's watchdog at its deadline; at expiry it cuts the connection unless a
/// handler runs or the deadline moved later (then it re-arms). A completion handler rather
/// than a coroutine: no coroutine frame per connection.
void arm_watchdog(std::shared_ptr<ServerState> server, std::shared_ptr<Connection> connection) {
  Connection& c = *connection;
  c.armed = c.deadline;
  c.watchdog.expires_at(c.armed);
  c.watchdog.async_wait([server = std::move(server),
                         connection = std::move(connection)](boost::system::error_code ec) mutable {
    Connection& watched = *connection;
    if (watched.closed || watched.upgraded) {
      watched.armed = Clock::time_point::max();
      return;
    }
    // Aborted: re-armed for an earlier deadline. Expired: the deadline may have moved.
    const auto now = Clock::now();
    if (ec != asio::error::operation_aborted && now >= watched.deadline) {
      if (!watched.handling) {
        watched.timed_out = true;
        watched.cut();
        watched.armed = Clock::time_point::max();
        return;
      }
      watched.deadline = now + server->limits.header_timeout;  // handlers are never cut
    }
    arm_watchdog(std::move(server), std::move(connection));
  });
}

void Session::open() {
  auto& c = *connection_;
  boost::system::error_code ec;
  c.socket.non_blocking(true, ec);  // writes try a direct send first
  auto peer = c.socket.remote_endpoint(ec);
  if (!ec) {
    auto address = peer.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    c.peer_ip = address.to_string();
  }
  c.request.connection = &c;
  c.set_deadline(server_->limits.header_timeout);
  arm_watchdog(server_, connection_);
  server_->connections.push_front(&c);
  position_ = server_->connections.begin();
}

/// Next request: wait for its first byte within the idle (keep-alive) timeout, and for the
/// rest of its head within the header timeout. False: the connection ends here.
bool Session::begin_request() {
  auto& c = *connection_;
  c.idle = true;
  c.handling = false;
  if (server_->stopping && c.requests > 0 && c.buffer.size() == 0) return false;
  if (c.requests > 0) {
    c.set_deadline(std::chrono::seconds(std::max(1, server_->limits.keep_alive.timeout)));
  }
  c.version = "HTTP/1.1";
  request_line_seen_ = false;
  quiet_ = false;
  // A buffer grown by a large request or answer is not kept for the next one.
  if (c.buffer.capacity() > max_kept_buffer && c.buffer.size() < 8192) c.buffer.shrink_to_fit();
  if (c.out.capacity() > max_kept_buffer) std::string().swap(c.out);
  if (framer_.state() == State::done) framer_.next();
  assert(framer_.state() == State::head);  // a rejected or unfinished request ended the loop
  return true;
}

/// The version of the request line, read from the bytes before the framer takes them: the
/// status line of an answer to a head that is refused echoes it too.
void Session::sniff_version(std::string_view bytes) {
  auto end = bytes.find('\n');
  if (end == std::string_view::npos) return;
  std::string_view line = bytes.substr(0, end);
  if (line.ends_with('\r')) line.remove_suffix(1);
  connection_->version = line.ends_with(" HTTP/1.0") ? "HTTP/1.0" : "HTTP/1.1";
  request_line_seen_ = true;
}

/// Feeds the bytes already read to the framer.
Session::State Session::feed_buffered() {
  auto& buffer = connection_->buffer;
  while (buffer.size() > 0 && (framer_.state() == State::head || framer_.state() == State::body)) {
    connection_->idle = false;
    const State before = framer_.state();
    auto data = buffer.data();
    if (before == State::head && !request_line_seen_)
      sniff_version(std::string_view(static_cast<const char*>(data.data()), data.size()));
    std::size_t used =
        framer_.feed(std::string_view(static_cast<const char*>(data.data()), data.size()));
    buffer.consume(used);
    if (used == 0 || framer_.state() != before) break;  // the head alone: decide, then the body
  }
  return framer_.state();
}

/// Feeds bytes read into the server's scratch buffer (nothing was buffered) to the framer;
/// what it leaves moves to the connection's buffer before the session can suspend (the
/// scratch is the next connection's then).
Session::State Session::take_scratch(std::string_view bytes) {
  auto& c = *connection_;
  c.idle = false;
  if (!request_line_seen_) sniff_version(bytes);
  while (!bytes.empty() && framer_.state() == State::head) {
    std::size_t used = framer_.feed(bytes);
    bytes.remove_prefix(used);
    if (used == 0) break;
  }
  if (!bytes.empty()) {
    auto space = c.buffer.prepare(std::max<std::size_t>(bytes.size(), 8192));
    std::memcpy(space.data(), bytes.data(), bytes.size());
    c.buffer.commit(bytes.size());
  }
  return framer_.state();
}

/// The head is in: the request's state and its access-log entry. False: ignored (no
/// remote address - the client was gone before we looked; spec §3.4, nothing is sent).
bool Session::admit() {
  auto& c = *connection_;
  c.idle = false;
  started_ = Clock::now();
  ++c.requests;
  server_->pipeline.prepare(c.request, framer_.message(), c.peer_ip);
  c.request.connection = &c;
  c.version = c.request.version;  // every answer's status line echoes it (as aiohttp)
  entry_ = access_entry(c.request, framer_.content_length());
  if (!c.peer_ip.empty()) return true;
  server_->access_log.ignored(entry_, "ignored http request");
  return false;
}

// Decided on the head, before any body byte (issue #11 defect 5): once the drain began
// the answer is 503 at once, without reading the body. `Expect: 100-continue` gets its
// 100 only for a request whose body will be read: routed (a declared length over the
// limit was refused by the framer already); one routed nowhere (404/405) is answered
// without its body, then the connection is closed.
Session::BodyPlan Session::plan_body() const {
  if (framer_.state() != State::body) return BodyPlan::read;
  if (!server_->accepting_requests) return BodyPlan::refuse;
  const auto& message = framer_.message();
  auto expect = message.find(bhttp::field::expect);
  if (expect == message.end() || !boost::beast::iequals(expect->value(), "100-continue"))
    return BodyPlan::read;
  if (connection_->request.match.outcome != Router::Outcome::found) return BodyPlan::skip;
  // Never a 100 to an HTTP/1.0 client (RFC 9110 §10.1.1), nor once the body is arriving.
  if (message.version() < 11 || connection_->buffer.size() > 0) return BodyPlan::read;
  return BodyPlan::read_after_continue;
}

void Session::log_protocol_error(int status) const {
  server_->access_log.protocol_error(connection_->peer_ip, status, 0);
}

void Session::log_body_cut_short() {
  // Upstream's record of this case: its internal 499 response (length 0), the bytes
  // read, no request length fallback and no times.
  entry_.request_content_read_length = static_cast<std::int64_t>(framer_.message().body().size());
  entry_.request_length_from_read = false;
  server_->access_log.ignored(entry_,
                              "ignored http request - connection closed before body was sent");
}

/// A connection with nothing buffered got readable (or is new: its request has usually come
/// with it): reads without blocking into the server's scratch buffer and feeds the framer.
/// A connection owns a read buffer only for bytes the framer left (an unfinished head, a
/// body, a pipelined request), and the idle sweep frees it.
Session::ScratchRead Session::read_scratch() {
  boost::system::error_code ec;
  auto& scratch = server_->read_scratch;
  std::size_t n = connection_->socket.read_some(asio::buffer(scratch), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) return ScratchRead::again;
  if (ec) return ScratchRead::ended;  // closed or reset
  take_scratch(std::string_view(scratch.data(), n));
  return ScratchRead::fed;
}

/// The body is in (or skipped): the handler may run. False: the client went away first.
bool Session::body_complete(BodyPlan plan) {
  if (framer_.state() != State::done && plan != BodyPlan::skip) {
    log_body_cut_short();
    return false;
  }
  entry_.request_content_read_length = static_cast<std::int64_t>(framer_.message().body().size());
  connection_->handling = true;
  return true;
}

/// The connection ends without a complete head: the framer's rejection answered, or a
/// head cut short by the header timeout recorded as a 408.
Task<void> Session::end_unfinished_head() {
  if (framer_.state() == State::rejected) {
    co_await connection_->write_simple(framer_.reject_status());
  } else if (connection_->timed_out && framer_.got_some()) {
    log_protocol_error(408);
  }
}

Task<void> Session::run() {
  open();
  auto& c = *connection_;
  try {
    while (begin_request()) {
      // The head: read until the framer holds one, or rejects the bytes.
      bool read_first = c.requests == 0;
      for (bool head_started = read_first; feed_buffered() == State::head;) {
        if (c.buffer.size() > 0 && !head_started) {
          head_started = true;
          c.set_deadline(server_->limits.header_timeout);
        }
        if (c.buffer.size() == 0) {  // nothing buffered: no buffer lent to the wait
          if (!read_first) {
            c.parked = true;
            c.parked_epoch = server_->sweep_epoch;
            auto [wait_ec] = co_await c.socket.async_wait(tcp::socket::wait_read,
                                                          asio::as_tuple(asio::use_awaitable));
            c.parked = false;
            if (wait_ec) break;  // cut by the watchdog, or cancelled at shutdown
          }
          read_first = false;
          const ScratchRead read = read_scratch();
          if (read == ScratchRead::ended ||
              (read == ScratchRead::fed && framer_.state() != State::head))
            break;
          continue;
        }
        auto [ec, n] = co_await c.socket.async_read_some(c.buffer.prepare(8192),
                                                         asio::as_tuple(asio::use_awaitable));
        if (ec) break;  // closed, reset, cut by the watchdog, or cancelled at shutdown
        c.buffer.commit(n);
      }
      if (framer_.state() == State::head || framer_.state() == State::rejected) {
        co_await end_unfinished_head();
        break;
      }
      ActiveRequest active(*server_);
      if (!admit()) break;
      // The body (spec §3.2), read before the handler runs - or not at all (plan_body).
      const BodyPlan plan = plan_body();
      if (plan == BodyPlan::refuse) {
        co_await c.write_simple(503);
        break;
      }
      if (plan == BodyPlan::read_after_continue) {
        bool sent = co_await c.write_all(continue_line);
        if (!sent) break;
      }
      if (plan == BodyPlan::skip) c.linger = true;  // answered without it, then closed
      bool drained = false;  // the drain began while the body was arriving: 503 at once
      while (plan != BodyPlan::skip && feed_buffered() == State::body) {
        c.set_deadline(server_->limits.body_timeout);
        c.reading_body = true;
        auto [ec, n] = co_await c.socket.async_read_some(c.buffer.prepare(65536),
                                                         asio::as_tuple(asio::use_awaitable));
        c.reading_body = false;
        drained = ec == asio::error::operation_aborted && !server_->accepting_requests;
        if (ec) break;
        c.buffer.commit(n);
      }
      if (framer_.state() == State::rejected || (drained && !c.timed_out)) {
        co_await c.write_simple(drained ? 503 : framer_.reject_status());
        break;
      }
      if (!body_complete(plan)) break;

      // The answer: a static file, a websocket, or the pipeline's response.
      Request request(c.request);
      const Route* route = c.request.route;
      handler_started_ = Clock::now();
      std::optional<WireResponse> wire;
      if (route && route->kind == RouteKind::websocket) {
        co_await run_websocket(c, request);
        break;
      }
      if (route && route->kind == RouteKind::static_files) {
        auto answer = answer_static(request, *route);
        wire = co_await std::move(answer);
        if (!wire && !keep_alive_) break;
        if (!wire) continue;
      } else if (auto health = server_->health.enabled
                                   ? health_answer(server_->health, c.request.method,
                                                   c.request.path, c.request.query)
                                   : std::nullopt) {
        // Health paths: before routing, no middleware, no span, no metrics, no access log.
        quiet_ = true;
        wire.emplace();
        wire->status = health->status;
        wire->content_type = health->content_type;
        wire->body = std::move(health->body);
      } else {
        auto respond = server_->pipeline.respond(request, server_->accepting_requests);
        wire = co_await std::move(respond);
      }
      entry_.handler_elapsed_seconds = seconds_since(handler_started_);

      // Head and body in one non-blocking send; a coroutine only when the socket is full.
      auto body = prepare_answer(*wire, plan == BodyPlan::skip);
      if (!body) break;
      std::size_t sent = 0;
      auto result = c.send_now(c.out, *body, sent);
      bool written = result == Connection::SendResult::done;
      if (result == Connection::SendResult::pending)
        written = co_await c.send_rest(c.out, *body, sent);
      if (!log_answer(written) || !keep_alive_) break;
    }
  } catch (const std::exception& error) {
    server_->http_logger.warning("error in http connection",
                                 {{"error_message", boost::json::string(error.what())}});
  }
  co_await close();
}

/// A static-file route: the file sent (nullopt; `keep_alive_` says what next), or the
/// http_error answer of a file that is missing or unreadable.
Task<std::optional<WireResponse>> Session::answer_static(Request& request, const Route& route) {
  auto& state = detail::request_state(request);
  const bool head = state.method == "HEAD";
  auto keep =
      decide_keep_alive(server_->limits.keep_alive, framer_.keep_alive(), connection_->requests,
                        Clock::now() - connection_->accepted_at, server_->stopping);
  StaticOutcome outcome = co_await serve_static(*connection_, route, head, keep);
  if (outcome.error_status == 0) {
    entry_.status = outcome.status;
    entry_.response_content_length = outcome.length < 0 ? 0 : outcome.length;
    entry_.handler_elapsed_seconds =
        std::chrono::duration<double>(outcome.resolved_at - handler_started_).count();
    entry_.request_seconds = seconds_since(started_);
    keep_alive_ = false;
    if (outcome.length < 0) {
      if (!outcome.read_failed) server_->access_log.disconnected_while_writing(state, entry_);
      co_return std::nullopt;
    }
    server_->access_log.answered(entry_, &route);
    keep_alive_ = keep.keep_alive;
    co_return std::nullopt;
  }
  // Missing or unreadable: upstream raises HTTPNotFound / HTTPForbidden, which go
  // through the http_error handlers like every other status.
  Headers no_headers;
  std::string no_body;
  auto task = server_->pipeline.error_response(outcome.error_status, request, std::move(no_headers),
                                               false, std::move(no_body));
  WireResponse wire = co_await std::move(task);
  co_return wire;
}

/// Formats the answer into the connection's head buffer and decides keep-alive; returns
/// the body bytes to send. nullopt: the client went away while the handler ran - nothing
/// is sent, the record is a 499 (spec §3.8).
std::optional<std::string_view> Session::prepare_answer(const WireResponse& wire,
                                                        bool force_close) {
  auto& c = *connection_;
  const bool handler_waited =
      entry_.handler_elapsed_seconds && *entry_.handler_elapsed_seconds > 0.001;
  if (handler_waited && !c.peer_connected()) {
    entry_.status = 499;
    entry_.replaced_status = wire.status;
    entry_.response_content_length = 0;  // upstream's internal 499 response
    entry_.replaced_response_content_length = static_cast<std::int64_t>(wire.body.size());
    entry_.request_seconds = seconds_since(started_);
    server_->access_log.answered(entry_, c.request.route);
    return std::nullopt;
  }
  c.handling = false;
  auto keep = decide_keep_alive(server_->limits.keep_alive, framer_.keep_alive(), c.requests,
                                Clock::now() - c.accepted_at, server_->stopping);
  keep_alive_ = keep.keep_alive && !force_close;
  entry_.status = wire.status;
  entry_.response_content_length = static_cast<std::int64_t>(wire.body.size());
  return format_response(c.out, c.version, server_->limits.server_header, wire,
                         c.request.method == "HEAD", keep, force_close);
}

/// The access-log record of a written answer (or of a peer that vanished mid-response,
/// spec §8). False: the connection is gone.
bool Session::log_answer(bool written) {
  if (quiet_) return written;
  entry_.request_seconds = seconds_since(started_);
  if (!written) {
    server_->access_log.disconnected_while_writing(connection_->request, entry_);
    return false;
  }
  server_->access_log.answered(entry_, connection_->request.route);
  return true;
}

// Lingering close (nginx's lingering_close): after an error answer with request bytes still
// unread, closing at once would make the kernel send RST, and a client still uploading may
// lose the answer. Half-close instead, then read and drop what comes for at most 2 s / 64 KiB.
Task<void> discard_unread(Connection& connection) {
  boost::system::error_code ec;
  connection.socket.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  connection.idle = true;  // nothing to finish: shutdown may cut it
  connection.handling = false;
  connection.set_deadline(std::chrono::seconds(2));
  std::size_t discarded = connection.buffer.size();
  connection.buffer.consume(connection.buffer.size());
  while (discarded < 64 * 1024 && !connection.timed_out) {
    auto [read_ec, n] = co_await connection.socket.async_read_some(
        connection.buffer.prepare(16384), asio::as_tuple(asio::use_awaitable));
    if (read_ec) break;  // the client closed too, or the watchdog cut it at the deadline
    discarded += n;
  }
}

Task<void> Session::close() {
  auto& c = *connection_;
  if (c.linger && !c.upgraded && !c.timed_out) co_await discard_unread(c);
  server_->connections.erase(position_);
  c.closed = true;
  c.watchdog.cancel();
  if (!c.upgraded) {
    boost::system::error_code ec;
    c.socket.shutdown(tcp::socket::shutdown_send, ec);
    c.socket.close(ec);
  }
}

}  // namespace

Task<void> run_session(std::shared_ptr<ServerState> server, tcp::socket socket) {
  Session session(std::move(server), std::move(socket));
  co_await session.run();
}

}  // namespace tomodachi::http_impl
