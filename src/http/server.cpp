// Beast HTTP/1.1 + websocket server of one service, run on the service loop.
// Request pipeline: spec/http.md §3; keep-alive §6; access log §8; drain §9;
// websockets §10; static files §11.

#include "http/server.hpp"

#include "core/encoding.hpp"
#include "http/http_util.hpp"
#include "http/router.hpp"

#include <tomodachi/context.hpp>
#include <tomodachi/logging.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <list>
#include <map>
#include <mutex>
#include <unordered_map>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace bws = boost::beast::websocket;
using tcp = asio::ip::tcp;

namespace tomodachi {
namespace http_impl {
class ServerCore;
struct Connection;
struct Route;
}  // namespace http_impl

namespace detail {

struct RequestState {
  http_impl::ServerCore* server = nullptr;
  http_impl::Connection* connection = nullptr;
  const bhttp::request<bhttp::string_body>* message = nullptr;
  std::string_view method;
  std::string_view target;
  std::string_view query;
  std::string_view version = "HTTP/1.1";
  std::string path;
  std::string remote_ip;
  std::string auth_user;
  const http_impl::Route* route = nullptr;
  http_impl::Router::Match match;
  std::optional<int> status_code;
  const HttpSpec* error_spec = nullptr;
  std::string websocket_id;
  boost::json::object context;
  Websocket* websocket = nullptr;
  std::optional<WebsocketCallbacks> websocket_callbacks;
  std::optional<std::vector<FormField>> form;

  void reset() {
    form.reset();
    message = nullptr;
    method = target = query = {};
    version = "HTTP/1.1";
    path.clear();
    remote_ip.clear();
    auth_user.clear();
    route = nullptr;
    status_code.reset();
    error_spec = nullptr;
    websocket_id.clear();
    if (!context.empty()) context.clear();
    websocket = nullptr;
    websocket_callbacks.reset();
  }
};

struct WebsocketState {
  explicit WebsocketState(tcp::socket&& socket)
      : ws(std::move(socket)), write_timer(ws.get_executor()) {}
  bws::stream<tcp::socket> ws;
  std::string id;
  bool closing = false;
  /// One write at a time: the owner of the write slot writes, the others wait in
  /// `write_queue` (each on a timer of its own frame) and get the slot in arrival order.
  bool writing = false;
  std::deque<asio::steady_timer*> write_queue;
  /// A write that makes no progress for `write_timeout` cuts the connection (a peer that
  /// stopped reading must not hold every sender forever).
  asio::steady_timer write_timer;
  std::chrono::steady_clock::duration write_timeout = std::chrono::steady_clock::duration::zero();
};

}  // namespace detail

namespace {

/// Waits for the write slot of `state` (first come, first served).
Task<void> acquire_write(const std::shared_ptr<detail::WebsocketState>& state) {
  if (!state->writing) {
    state->writing = true;
    co_return;
  }
  asio::steady_timer turn(state->ws.get_executor(), asio::steady_timer::time_point::max());
  state->write_queue.push_back(&turn);
  auto [ec] = co_await turn.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;  // handed over: the slot is ours now
}

/// Hands the write slot to the next waiter, or frees it.
void release_write(detail::WebsocketState& state) {
  if (state.write_queue.empty()) {
    state.writing = false;
    return;
  }
  asio::steady_timer* next = state.write_queue.front();
  state.write_queue.pop_front();
  next->cancel();
}

/// Starts the write timeout of the write about to begin.
void arm_write_timeout(const std::shared_ptr<detail::WebsocketState>& state) {
  if (state->write_timeout <= std::chrono::steady_clock::duration::zero()) return;
  state->write_timer.expires_after(state->write_timeout);
  state->write_timer.async_wait(
      [weak = std::weak_ptr<detail::WebsocketState>(state)](boost::system::error_code ec) {
        auto state = weak.lock();
        if (ec || !state) return;
        state->closing = true;
        boost::system::error_code ignored;
        beast::get_lowest_layer(state->ws).close(
            ignored);  // the stuck write fails, the receive loop ends
      });
}

}  // namespace

namespace http_impl {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// `Date` header value, formatted once per second.
std::string_view http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local char buffer[64];
  thread_local std::size_t length = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_second = now;
    std::tm tm{};
    gmtime_r(&now, &tm);
    length = std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  }
  return {buffer, length};
}

bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= 32 || c >= 127 || c == ':' || c == '(' || c == ')' || c == ',' || c == ';' ||
        c == '<' || c == '>' || c == '@' || c == '[' || c == ']' || c == '\\' || c == '"' ||
        c == '/' || c == '?' || c == '=' || c == '{' || c == '}') {
      return false;
    }
  }
  return true;
}

bool valid_header_value(std::string_view value) {
  return value.find_first_of("\r\n", 0) == std::string_view::npos &&
         value.find('\0') == std::string_view::npos;
}

std::string lower_ascii(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

/// True while the peer has not closed its side (a non-blocking peek).
bool peer_connected(int fd) {
  if (fd < 0) return false;
  char byte;
  ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return true;
  if (n == 0) return false;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

struct Counters {
  ExecutionCounter current{"http_current_tasks"};
  ExecutionCounter total{"http_total_tasks"};
};

Counters& counters() {
  static Counters* instance = new Counters();  // lives for the process (read by the context)
  return *instance;
}

std::mutex ports_mutex;
std::map<const Service*, int>& bound_ports() {
  static std::map<const Service*, int> ports;
  return ports;
}

}  // namespace

struct Route {
  const detail::HttpSpec* spec = nullptr;
  std::string static_base;  ///< static: real path of the directory, with trailing '/'
  int filename_group = -1;
};

struct Connection {
  explicit Connection(tcp::socket&& s) : socket(std::move(s)), watchdog(socket.get_executor()) {}
  tcp::socket socket;
  /// One lazily re-armed timer per connection: moving the deadline later is a store,
  /// only an earlier deadline re-arms the timer (no timer work per request).
  asio::steady_timer watchdog;
  Clock::time_point deadline = Clock::time_point::max();
  Clock::time_point armed = Clock::time_point::max();
  bool handling = false;   ///< a handler runs: no deadline applies
  bool timed_out = false;  ///< the watchdog cut the connection
  bool closed = false;
  beast::flat_buffer buffer;
  std::string peer_ip;
  Clock::time_point accepted_at = Clock::now();
  std::uint64_t requests = 0;
  bool idle = true;       ///< waiting for the next request (safe to close at shutdown)
  bool upgraded = false;  ///< handed to a websocket
  bool linger = false;    ///< an error answer left request bytes unread: drain before closing
  std::string out;        ///< response head buffer, reused
  detail::RequestState request;

  void set_deadline(Clock::duration timeout) {
    deadline = Clock::now() + timeout;
    if (deadline < armed) watchdog.cancel();  // the watchdog re-arms at the earlier deadline
  }
  void cut() {
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.cancel(ignored);
  }
};

/// The state shared by the transport instance and its connection coroutines (which may
/// outlive the instance by a few loop iterations).
class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(Service& service, std::vector<const detail::HttpSpec*> specs)
      : service_(service), specs_(std::move(specs)) {}

  void setup();
  Task<void> start();
  void stop_listening() noexcept;
  Task<void> stop(Deadline deadline);
  int port() const noexcept { return port_; }

  // Used by Request accessors.
  const Router& router() const noexcept { return router_; }
  Service& service() noexcept { return service_; }

 private:
  friend class tomodachi::Websocket;
  enum class SendResult { done, failed, pending };
  /// What serve_static did: sent the file (`length` bytes, or -1 when the connection
  /// broke), or found nothing to send (`error_status` 404/403 for the error handlers).
  struct StaticOutcome {
    int status = 200;
    std::int64_t length = 0;
    int error_status = 0;
    bool read_failed = false;  ///< logged as a warning; the connection is closed
    Clock::time_point resolved_at;
  };

  Task<void> accept_loop();
  Task<void> session(tcp::socket socket);
  Task<void> watchdog(std::shared_ptr<Connection> connection);
  Task<void> discard_unread(Connection& connection);
  /// One non-blocking send of head + body; `sent` counts the bytes written.
  SendResult send_now(Connection& connection, asio::const_buffer head, asio::const_buffer body,
                      std::size_t& sent);
  /// The rest of a send that did not fit into the socket buffer.
  Task<bool> send_rest(Connection& connection, asio::const_buffer head, asio::const_buffer body,
                       std::size_t sent);
  Task<bool> write_all(Connection& connection, asio::const_buffer head, asio::const_buffer body);
  Task<bool> serve_one(Connection& connection);
  Task<Response> run_chain(std::size_t index, Request& request, int kind);
  Task<Response> call_inner(Request& request, int kind);
  /// The response of an HTTP status: its http_error handler (then the 500 one), else the
  /// reason phrase, or `body` when an HttpError carried one.
  Task<WireResponse> error_response(int status, Request& request, Headers extra, bool empty_500,
                                    std::string body);
  /// Formats the response head into `connection.out`; returns the body bytes to send.
  asio::const_buffer format_response(Connection& connection, const WireResponse& wire, bool head,
                                     const KeepAliveDecision& keep_alive, bool force_close);
  Task<bool> write_response(Connection& connection, WireResponse& wire, bool head,
                            const KeepAliveDecision& keep_alive, bool force_close);
  Task<bool> write_simple(Connection& connection, int status, bool empty_body = false);
  Task<StaticOutcome> serve_static(Connection& connection, const Route& route, bool head,
                                   const KeepAliveDecision& keep_alive);
  Task<void> run_websocket(Connection& connection, Request& request);
  void log_access(const detail::RequestState& state, const AccessLogEntry& entry,
                  const Route* route) const;
  void log_disconnected_while_writing(const detail::RequestState& state,
                                      const AccessLogEntry& entry) const;
  void log_websocket(const detail::RequestState& state, std::string_view ws_state,
                     std::optional<double> total_seconds) const;
  void log_protocol_error(Connection& connection, int status, std::int64_t length) const;
  void log_handler_error(std::exception_ptr error, const detail::RequestState& state) const;
  Task<void> pause(Clock::duration duration, Deadline deadline);

  Service& service_;
  std::vector<const detail::HttpSpec*> specs_;
  Router router_;
  std::vector<Route> routes_;
  std::unordered_map<int, const detail::HttpSpec*> error_handlers_;
  std::vector<const detail::HttpSpec*> middlewares_;

  // options
  ContentDefaults defaults_;
  KeepAliveConfig keep_alive_;
  std::int64_t client_max_size_ = 0;
  std::vector<IpNetwork> real_ip_from_;
  std::string real_ip_header_;
  std::string server_header_;
  bool access_log_ = true;
  std::string access_log_file_;
  int access_log_sink_ = -1;
  std::chrono::seconds header_timeout_{15};
  std::chrono::seconds body_timeout_{60};
  std::size_t max_header_size_ = 16384;
  std::size_t websocket_max_message_ = 4194304;
  std::chrono::seconds websocket_idle_timeout_{300};

  Logger access_logger_{"tomodachi.http.response"};
  Logger websocket_logger_{"tomodachi.http.websocket"};
  Logger http_logger_{"tomodachi.http"};

  std::optional<tcp::acceptor> acceptor_;
  int port_ = 0;
  bool stopping_ = false;
  bool accepting_requests_ = true;
  std::size_t active_requests_ = 0;
  std::list<Connection*> connections_;
  std::list<std::shared_ptr<detail::WebsocketState>> websockets_;
  Clock::time_point accept_warned_at_{};
  std::uint64_t accept_errors_suppressed_ = 0;
};

// ---- set-up --------------------------------------------------------------------------

void ServerCore::setup() {
  const auto& http = service_.options.http;
  keep_alive_ = keepalive_config(http);
  client_max_size_ = parse_client_max_size(http.client_max_size);
  real_ip_from_ = parse_ip_networks(http.real_ip_from);
  real_ip_header_ = http.real_ip_header;
  server_header_ = http.server_header;
  defaults_ = content_defaults(http.content_type, http.charset);
  if (const bool* enabled = std::get_if<bool>(&http.access_log)) {
    access_log_ = *enabled;
  } else {
    access_log_file_ = std::get<std::string>(http.access_log);
    access_log_ = true;
  }
  if (http.max_header_size < 256) {
    throw std::invalid_argument("Too low value for http option max_header_size: " +
                                std::to_string(http.max_header_size));
  }
  max_header_size_ = static_cast<std::size_t>(http.max_header_size);
  header_timeout_ = std::chrono::seconds(std::max(1, http.header_read_timeout));
  body_timeout_ = std::chrono::seconds(std::max(1, http.body_read_timeout));
  websocket_max_message_ = static_cast<std::size_t>(std::max(1, http.websocket_max_message_size));
  websocket_idle_timeout_ = std::chrono::seconds(std::max(0, http.websocket_idle_timeout));

  routes_.clear();
  router_ = Router();
  error_handlers_.clear();
  middlewares_.clear();
  for (const auto* spec : specs_) {
    switch (spec->kind) {
      case detail::HttpSpecKind::route:
      case detail::HttpSpecKind::websocket: {
        router_.add(spec->methods, spec->pattern, routes_.size());
        routes_.push_back(Route{spec});
        break;
      }
      case detail::HttpSpecKind::static_files: {
        std::string pattern = strip_route_anchors(spec->pattern);
        if (pattern.find("(?P<filename>") == std::string::npos) pattern += "(?P<filename>.+?)";
        Route route{spec};
        std::error_code error;
        std::filesystem::path directory = spec->static_path;
        // `tomodachi run` knows the service's source file: relative paths are resolved
        // against its folder (like upstream's service file path).
        if (std::filesystem::path(spec->static_raw_path).is_relative() &&
            !service_.source_file().empty() &&
            std::filesystem::path(service_.source_file()).is_absolute()) {
          directory =
              std::filesystem::path(service_.source_file()).parent_path() / spec->static_raw_path;
        }
        auto base = std::filesystem::canonical(directory, error);
        if (error || base == "/" || !std::filesystem::is_directory(base)) {
          throw std::invalid_argument("Invalid path '" + spec->static_path + "' for static route");
        }
        route.static_base = base.string() + "/";
        router_.add({"GET"}, pattern, routes_.size());
        route.filename_group = router_.group_index(routes_.size(), "filename");
        routes_.push_back(std::move(route));
        break;
      }
      case detail::HttpSpecKind::error:
        error_handlers_[spec->status] = spec;
        break;
      case detail::HttpSpecKind::middleware:
        middlewares_.push_back(spec);
        break;
    }
  }
}

Task<void> ServerCore::start() {
  const auto& http = service_.options.http;
  auto executor = co_await asio::this_coro::executor;
  std::string host = http.host.empty() ? std::string("0.0.0.0") : http.host;
  int requested_port = http.port.value_or(0);
  if (requested_port < 0 || requested_port > 65535) {
    throw HttpException("Bad value for http option port: " + std::to_string(requested_port));
  }

  if (!access_log_file_.empty()) {
    std::filesystem::path path(access_log_file_);
    auto parent = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::is_directory(parent)) {
      http_logger_.warning("Unable to use file for access log - invalid path (\"" +
                           access_log_file_ + "\")");
      throw HttpException("Unable to use file for access log - invalid path (\"" +
                          access_log_file_ + "\")");
    }
    try {
      access_log_sink_ = add_json_file_sink(path, [](const LogRecord& record) {
        return record.logger == "tomodachi.http.response" ||
               (record.logger == "tomodachi.http" && record.message &&
                *record.message == "accepting http requests");
      });
    } catch (const std::exception& error) {
      http_logger_.warning("Unable to use file for access log - invalid permissions (\"" +
                           access_log_file_ + "\")");
      throw HttpException(std::string("Unable to use file for access log - invalid permissions: ") +
                          error.what());
    }
  }

  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    tcp::resolver resolver(executor);
    auto results = resolver.resolve(host, std::to_string(requested_port), ec);
    if (!ec && !results.empty()) address = results.begin()->endpoint().address();
  }
  tcp::acceptor acceptor(executor);
  if (!ec) {
    tcp::endpoint endpoint(address, static_cast<unsigned short>(requested_port));
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && http.reuse_port) {
      int one = 1;
      if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        ec.assign(errno, boost::system::system_category());
      }
    }
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    std::string message = lower_ascii(ec.message());
    if (access_log_sink_ >= 0) {
      remove_log_sink(access_log_sink_);
      access_log_sink_ = -1;
    }
    http_logger_.warning("unable to bind service [http] to " + listen_url(host, requested_port),
                         {{"host", boost::json::string(host)},
                          {"port", requested_port},
                          {"error_message", boost::json::string(message)}});
    throw HttpException("unable to bind service [http] to " + listen_url(host, requested_port) +
                        ": " + message);
  }
  port_ = acceptor.local_endpoint().port();
  acceptor_.emplace(std::move(acceptor));
  bool shared_port = false;
  {
    std::lock_guard lock(ports_mutex);
    for (const auto& [other, other_port] : bound_ports())
      shared_port |= other != &service_ && other_port == port_;
    bound_ports()[&service_] = port_;
  }
  if (http.reuse_port && requested_port == 0) {
    http_logger_.warning("the http.reuse_port option has no use with a random port (http.port = 0)",
                         {{"listen_port", port_}});
  }
  if (shared_port) {
    http_logger_.warning(
        "several services in this process listen on the same http port - the kernel spreads "
        "connections between them (http.reuse_port)",
        {{"listen_port", port_}});
  }

  set_execution_context({{"http_enabled", true}, {"http_server_version", http_server_version()}});
  (void)counters();

  http_logger_.info("accepting http requests",
                    {{"listen_url", boost::json::string(listen_url(host, port_))},
                     {"listen_host", boost::json::string(host)},
                     {"listen_port", port_}});
  asio::co_spawn(
      executor, [self = shared_from_this()]() { return self->accept_loop(); }, asio::detached);
}

Task<void> ServerCore::accept_loop() {
  auto self = shared_from_this();
  auto executor = co_await asio::this_coro::executor;
  while (acceptor_ && acceptor_->is_open()) {
    auto [ec, socket] = co_await acceptor_->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor_ || !acceptor_->is_open()) break;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning, and warn at most
      // every 10 s (with the number of failures not logged in between).
      if (Clock::now() - accept_warned_at_ >= std::chrono::seconds(10)) {
        LogFields fields{{"error_message", boost::json::string(lower_ascii(ec.message()))}};
        if (accept_errors_suppressed_ > 0) {
          fields.push_back(
              {"suppressed_count", static_cast<std::int64_t>(accept_errors_suppressed_)});
        }
        http_logger_.warning("unable to accept http connection", std::move(fields));
        accept_warned_at_ = Clock::now();
        accept_errors_suppressed_ = 0;
      } else {
        ++accept_errors_suppressed_;
      }
      asio::steady_timer timer(executor, std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(executor, session(std::move(socket)), asio::detached);
  }
}

// ---- connections ---------------------------------------------------------------------

Task<void> ServerCore::session(tcp::socket socket) {
  auto self = shared_from_this();
  auto connection = std::make_shared<Connection>(std::move(socket));
  boost::system::error_code ec;
  connection->socket.non_blocking(true, ec);  // writes try a direct send first
  auto peer = connection->socket.remote_endpoint(ec);
  if (!ec) {
    auto address = peer.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    connection->peer_ip = address.to_string();
  }
  connection->request.server = this;
  connection->request.connection = connection.get();
  connection->set_deadline(header_timeout_);
  asio::co_spawn(connection->socket.get_executor(), watchdog(connection), asio::detached);
  connections_.push_front(connection.get());
  auto position = connections_.begin();
  try {
    for (;;) {
      bool keep_going = co_await serve_one(*connection);
      if (!keep_going) break;
    }
  } catch (const std::exception& error) {
    http_logger_.warning("error in http connection",
                         {{"error_message", boost::json::string(error.what())}});
  }
  if (connection->linger && !connection->upgraded && !connection->timed_out) {
    co_await discard_unread(*connection);
  }
  connections_.erase(position);
  connection->closed = true;
  connection->watchdog.cancel();
  if (!connection->upgraded) {
    connection->socket.shutdown(tcp::socket::shutdown_send, ec);
    connection->socket.close(ec);
  }
}

Task<void> ServerCore::watchdog(std::shared_ptr<Connection> connection) {
  auto self = shared_from_this();
  while (!connection->closed && !connection->upgraded) {
    connection->armed = connection->deadline;
    connection->watchdog.expires_at(connection->armed);
    auto [ec] = co_await connection->watchdog.async_wait(asio::as_tuple(asio::use_awaitable));
    if (connection->closed || connection->upgraded) break;
    if (ec == asio::error::operation_aborted) continue;  // re-armed for an earlier deadline
    auto now = Clock::now();
    if (now < connection->deadline) continue;
    if (connection->handling) {
      connection->deadline = now + header_timeout_;  // handlers are never cut
      continue;
    }
    connection->timed_out = true;
    connection->cut();
    break;
  }
  connection->armed = Clock::time_point::max();
}

ServerCore::SendResult ServerCore::send_now(Connection& connection, asio::const_buffer head,
                                            asio::const_buffer body, std::size_t& sent) {
  std::array<asio::const_buffer, 2> buffers{head, body};
  boost::system::error_code ec;
  sent = connection.socket.write_some(buffers, ec);  // non-blocking: the common case ends here
  if (!ec && sent == head.size() + body.size()) return SendResult::done;
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again)
    return SendResult::failed;
  return SendResult::pending;
}

Task<bool> ServerCore::send_rest(Connection& connection, asio::const_buffer head,
                                 asio::const_buffer body, std::size_t sent) {
  std::array<asio::const_buffer, 2> buffers{head, body};
  if (sent >= head.size()) {
    buffers[1] = asio::const_buffer(static_cast<const char*>(body.data()) + (sent - head.size()),
                                    body.size() - (sent - head.size()));
    buffers[0] = asio::const_buffer();
  } else {
    buffers[0] =
        asio::const_buffer(static_cast<const char*>(head.data()) + sent, head.size() - sent);
  }
  connection.set_deadline(body_timeout_);
  auto [write_ec, written] =
      co_await asio::async_write(connection.socket, buffers, asio::as_tuple(asio::use_awaitable));
  (void)written;
  co_return !write_ec;
}

Task<bool> ServerCore::write_all(Connection& connection, asio::const_buffer head,
                                 asio::const_buffer body) {
  std::size_t sent = 0;
  switch (send_now(connection, head, body, sent)) {
    case SendResult::done:
      co_return true;
    case SendResult::failed:
      co_return false;
    case SendResult::pending:
      break;
  }
  bool ok = co_await send_rest(connection, head, body, sent);
  co_return ok;
}

// Lingering close (nginx's lingering_close): after an error answer with request bytes still
// unread, closing at once would make the kernel send RST, and a client still uploading may
// lose the answer. Half-close instead, then read and drop what comes for at most 2 s / 64 KiB.
Task<void> ServerCore::discard_unread(Connection& connection) {
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

Task<bool> ServerCore::serve_one(Connection& connection) {
  auto& buffer = connection.buffer;

  // Next request: wait for its first byte within the idle (keep-alive) timeout, and for
  // the rest of its head within the header timeout.
  connection.idle = true;
  connection.handling = false;
  if (stopping_ && connection.requests > 0 && buffer.size() == 0) co_return false;
  if (connection.requests > 0) {
    connection.set_deadline(std::chrono::seconds(std::max(1, keep_alive_.timeout)));
  }

  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(max_header_size_));
  parser.body_limit(static_cast<std::uint64_t>(client_max_size_));
  bool header_deadline_set = connection.requests == 0;
  for (;;) {
    if (buffer.size() > 0) {
      connection.idle = false;
      boost::system::error_code ec;
      std::size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == bhttp::error::need_more) ec = {};
      if (ec == bhttp::error::header_limit) {
        co_await write_simple(connection, 431);
        co_return false;
      }
      if (ec == bhttp::error::body_limit) {  // a declared Content-Length above client_max_size
        co_await write_simple(connection, 413);
        co_return false;
      }
      if (ec) {
        co_await write_simple(connection, 400);
        co_return false;
      }
      if (parser.is_header_done()) break;
      if (!header_deadline_set) {
        header_deadline_set = true;
        connection.set_deadline(header_timeout_);
      }
    }
    auto [ec, n] = co_await connection.socket.async_read_some(buffer.prepare(8192),
                                                              asio::as_tuple(asio::use_awaitable));
    if (ec) {
      // closed, reset, cut by the watchdog, or cancelled at shutdown: nothing to answer
      if (connection.timed_out && parser.got_some()) log_protocol_error(connection, 408, 0);
      co_return false;
    }
    buffer.commit(n);
  }
  connection.idle = false;

  auto started = Clock::now();
  ++connection.requests;
  counters().total.add();
  // Active from its parsed head on (like upstream's middleware task): a body still being
  // uploaded when the stop begins is waited for, not cut.
  ++active_requests_;
  counters().current.add();
  struct ActiveGuard {
    ServerCore* core;
    ~ActiveGuard() {
      --core->active_requests_;
      counters().current.sub();
    }
  } active_guard{this};

  auto& message = parser.get();
  auto& state = connection.request;
  state.reset();
  state.message = &message;
  state.method = std::string_view(message.method_string().data(), message.method_string().size());
  state.target = std::string_view(message.target().data(), message.target().size());
  state.version = message.version() == 10 ? "HTTP/1.0" : "HTTP/1.1";
  std::string_view raw_path = state.target;
  if (auto question = raw_path.find('?'); question != std::string_view::npos) {
    state.query = raw_path.substr(question + 1);
    raw_path = raw_path.substr(0, question);
  }
  if (raw_path.find('%') == std::string_view::npos) {
    state.path.assign(raw_path);
  } else {
    state.path = percent_decode(raw_path);
  }
  // Absolute-form targets (`GET http://host/path`): route on the path part.
  if (!state.path.empty() && state.path.front() != '/') {
    auto scheme = state.path.find("://");
    if (scheme != std::string::npos) {
      auto slash = state.path.find('/', scheme + 3);
      state.path = slash == std::string::npos ? std::string("/") : state.path.substr(slash);
    }
  }
  if (!real_ip_from_.empty() && !real_ip_header_.empty()) {
    auto header = message.find(real_ip_header_);
    std::optional<std::string_view> value;
    if (header != message.end())
      value = std::string_view(header->value().data(), header->value().size());
    state.remote_ip = real_ip(connection.peer_ip, value, real_ip_from_);
  } else {
    state.remote_ip = connection.peer_ip;
  }
  if (auto authorization = message.find(bhttp::field::authorization);
      authorization != message.end()) {
    state.auth_user = basic_auth_user(
        std::string_view(authorization->value().data(), authorization->value().size()));
  }
  std::string_view user_agent;
  if (auto agent = message.find(bhttp::field::user_agent); agent != message.end()) {
    user_agent = std::string_view(agent->value().data(), agent->value().size());
  }

  AccessLogEntry entry;
  entry.remote_ip = state.remote_ip;
  entry.auth_user = state.auth_user;
  entry.method = state.method;
  entry.path = state.path;
  entry.query_string = state.query;
  entry.http_version = state.version;
  entry.user_agent = user_agent;
  if (auto length = parser.content_length())
    entry.request_content_length = static_cast<std::int64_t>(*length);

  if (connection.peer_ip.empty()) {
    // No remote address (the client was gone before we looked): ignored, nothing sent
    // (spec §3.4; upstream's record of its internal 499 response, without times).
    if (access_log_) {
      entry.status = 499;
      entry.response_content_length = 0;
      access_logger_.info("ignored http request", access_log_fields(entry));
    }
    co_return false;
  }

  // Body pre-read (spec §3.2).
  if (!parser.is_done()) {
    if (auto expect = message.find(bhttp::field::expect);
        expect != message.end() && beast::iequals(expect->value(), "100-continue") &&
        buffer.size() == 0) {
      static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
      bool sent =
          co_await write_all(connection, asio::buffer(continue_line.data(), continue_line.size()),
                             asio::const_buffer());
      if (!sent) co_return false;
    }
    bool failed = false;
    while (!parser.is_done()) {
      if (buffer.size() > 0) {
        boost::system::error_code ec;
        std::size_t used = parser.put(buffer.data(), ec);
        buffer.consume(used);
        if (ec == bhttp::error::need_more) ec = {};
        if (ec == bhttp::error::body_limit) {
          co_await write_simple(connection, 413);
          co_return false;
        }
        if (ec) {
          co_await write_simple(connection, 400);
          co_return false;
        }
        if (parser.is_done()) break;
        if (used > 0) continue;
      }
      connection.set_deadline(body_timeout_);
      auto [ec, n] = co_await connection.socket.async_read_some(
          buffer.prepare(65536), asio::as_tuple(asio::use_awaitable));
      if (ec) {
        failed = true;
        break;
      }
      buffer.commit(n);
    }
    if (failed) {
      // Upstream's record of this case: its internal 499 response (length 0), the bytes
      // read, no request length fallback and no times.
      if (access_log_) {
        entry.status = 499;
        entry.response_content_length = 0;
        entry.request_content_read_length = static_cast<std::int64_t>(message.body().size());
        entry.request_length_from_read = false;
        access_logger_.info("ignored http request - connection closed before body was sent",
                            access_log_fields(entry));
      }
      co_return false;
    }
  }
  entry.request_content_read_length = static_cast<std::int64_t>(message.body().size());
  connection.handling = true;

  // Route.
  Request request(state);
  router_.resolve(state.method, state.path, state.match);
  const bool head = state.method == "HEAD";
  const bool client_keep_alive = message.keep_alive();
  WireResponse wire;

  // Everything below is upstream's "handler" (its middleware times it for every outcome,
  // 404/405 and static files included).
  auto handler_started = Clock::now();
  std::optional<Clock::time_point> handler_stopped;
  if (state.match.outcome == Router::Outcome::found) {
    state.route = &routes_[state.match.route];
    const auto kind = state.route->spec->kind;
    if (kind == detail::HttpSpecKind::static_files) {
      auto keep = decide_keep_alive(keep_alive_, client_keep_alive, connection.requests,
                                    Clock::now() - connection.accepted_at, stopping_);
      StaticOutcome outcome = co_await serve_static(connection, *state.route, head, keep);
      if (outcome.error_status == 0) {
        entry.status = outcome.status;
        entry.response_content_length = outcome.length < 0 ? 0 : outcome.length;
        entry.handler_elapsed_seconds =
            std::chrono::duration<double>(outcome.resolved_at - handler_started).count();
        entry.request_seconds = seconds_since(started);
        if (outcome.length < 0) {
          if (!outcome.read_failed) log_disconnected_while_writing(state, entry);
          co_return false;
        }
        log_access(state, entry, state.route);
        co_return keep.keep_alive;
      }
      // Missing or unreadable: upstream raises HTTPNotFound / HTTPForbidden, which go
      // through the http_error handlers like every other status.
      Headers no_headers;
      std::string no_body;
      wire = co_await error_response(outcome.error_status, request, std::move(no_headers), false,
                                     std::move(no_body));
      handler_stopped = Clock::now();
    } else if (kind == detail::HttpSpecKind::websocket) {
      co_await run_websocket(connection, request);
      co_return false;
    } else {
      std::exception_ptr error;
      try {
        if (!accepting_requests_) throw HttpError(503);
        const detail::HttpSpec* spec = state.route->spec;
        if (middlewares_.empty() && spec->guards.empty()) {
          auto task = spec->handler(service_, request);  // the common case: no chain frames
          Response response = co_await std::move(task);
          wire = to_wire(std::move(response), 200, defaults_);
        } else {
          auto task = run_chain(0, request, 0);
          Response response = co_await std::move(task);
          wire = to_wire(std::move(response), 200, defaults_);
        }
      } catch (...) {
        error = std::current_exception();
      }
      if (error) {
        int status = 500;
        Headers extra;
        std::string body;
        bool generic = false;
        try {
          std::rethrow_exception(error);
        } catch (const HttpError& http_error) {
          status = http_error.status();
          extra = http_error.headers();
          body = http_error.body();
        } catch (const ResponseEncodingError&) {
          log_handler_error(error, state);
        } catch (...) {
          generic = true;
          log_handler_error(error, state);
        }
        wire = co_await error_response(status, request, std::move(extra), generic, std::move(body));
      }
      handler_stopped = Clock::now();
    }
  } else if (state.match.outcome == Router::Outcome::method_not_allowed) {
    Headers allow;
    allow.emplace_back("Allow", state.match.allow);
    std::string no_body;
    wire = co_await error_response(405, request, std::move(allow), false, std::move(no_body));
    handler_stopped = Clock::now();
  } else {
    Headers no_headers;
    std::string no_body;
    wire = co_await error_response(404, request, std::move(no_headers), false, std::move(no_body));
    handler_stopped = Clock::now();
  }
  if (handler_stopped) {
    entry.handler_elapsed_seconds =
        std::chrono::duration<double>(*handler_stopped - handler_started).count();
  }
  const Route* logged_route = state.match.outcome == Router::Outcome::found ? state.route : nullptr;

  // The client went away while the handler ran: nothing is sent (spec §3.8).
  const bool handler_waited =
      entry.handler_elapsed_seconds && *entry.handler_elapsed_seconds > 0.001;
  if (handler_waited && !peer_connected(connection.socket.native_handle())) {
    entry.status = 499;
    entry.replaced_status = wire.status;
    entry.response_content_length = 0;  // upstream's internal 499 response
    entry.replaced_response_content_length = static_cast<std::int64_t>(wire.body.size());
    entry.request_seconds = seconds_since(started);
    log_access(state, entry, logged_route);
    co_return false;
  }

  connection.handling = false;
  auto keep = decide_keep_alive(keep_alive_, client_keep_alive, connection.requests,
                                Clock::now() - connection.accepted_at, stopping_);
  entry.status = wire.status;
  entry.response_content_length = static_cast<std::int64_t>(wire.body.size());
  // Head and body in one non-blocking send; a coroutine only when the socket buffer is full.
  asio::const_buffer body = format_response(connection, wire, head, keep, false);
  asio::const_buffer head_bytes = asio::buffer(connection.out);
  std::size_t sent = 0;
  SendResult result = send_now(connection, head_bytes, body, sent);
  bool written = result == SendResult::done;
  if (result == SendResult::pending)
    written = co_await send_rest(connection, head_bytes, body, sent);
  entry.request_seconds = seconds_since(started);
  if (!written) {
    log_disconnected_while_writing(state, entry);  // the peer vanished mid-response (spec §8)
    co_return false;
  }
  log_access(state, entry, logged_route);
  co_return keep.keep_alive;
}

// ---- handlers, middlewares, errors -----------------------------------------------------

// kind: 0 = route handler, 1 = error handler, 2 = websocket handler
Task<Response> ServerCore::call_inner(Request& request, int kind) {
  auto& state = request.state();
  if (kind == 1) {
    auto task = state.error_spec->handler(service_, request);
    co_return co_await std::move(task);
  }
  const detail::HttpSpec* spec = state.route->spec;
  for (const auto& guard : spec->guards) {
    auto guard_task = guard(service_, request);
    std::optional<Response> answer = co_await std::move(guard_task);
    if (answer) co_return std::move(*answer);
  }
  if (kind == 2) {
    auto task = spec->websocket_handler(service_, *state.websocket, request);
    state.websocket_callbacks = co_await std::move(task);
    co_return Response{};
  }
  auto task = spec->handler(service_, request);
  co_return co_await std::move(task);
}

Task<Response> ServerCore::run_chain(std::size_t index, Request& request, int kind) {
  if (index >= middlewares_.size()) {
    auto task = call_inner(request, kind);
    co_return co_await std::move(task);
  }
  // `next` captures one pointer to this frame's link: small enough for std::function's
  // inline storage, so building it allocates nothing.
  struct Link {
    ServerCore* core;
    Request* request;
    std::size_t index;
    int kind;
  } link{this, &request, index + 1, kind};
  HttpNext next = [&link]() { return link.core->run_chain(link.index, *link.request, link.kind); };
  auto task = middlewares_[index]->middleware(next, request);
  co_return co_await std::move(task);
}

Task<WireResponse> ServerCore::error_response(int status, Request& request, Headers extra,
                                              bool empty_500, std::string body) {
  auto& state = request.state();
  // First the handler of `status`, then (when that one fails) the handler of 500.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int attempt_status = attempt == 0 ? status : 500;
    if (attempt == 1 && status == 500) break;  // the 500 handler was the one that failed
    auto it = error_handlers_.find(attempt_status);
    if (it == error_handlers_.end()) {
      if (attempt_status != status) break;  // no 500 handler to fall back to
      WireResponse wire = status_response(status, status == 500 && empty_500);
      if (!body.empty()) wire.body = std::move(body);  // HttpError(status, headers, body)
      for (auto& header : extra) wire.add_header(std::move(header.first), std::move(header.second));
      co_return wire;
    }
    state.error_spec = it->second;
    state.status_code = attempt_status;
    std::exception_ptr error;
    try {
      Response response;
      if (middlewares_.empty()) {
        auto task = it->second->handler(service_, request);
        response = co_await std::move(task);
      } else {
        auto task = run_chain(0, request, 1);
        response = co_await std::move(task);
      }
      WireResponse wire = to_wire(std::move(response), attempt_status, defaults_);
      if (attempt_status == status) {
        for (auto& header : extra) {  // the handler's own headers win
          const bool present = iequals(header.first, "Content-Type")
                                   ? !wire.content_type_value().empty()
                                   : find_header(wire.headers, header.first) != nullptr;
          if (!present) wire.add_header(std::move(header.first), std::move(header.second));
        }
      }
      co_return wire;
    } catch (...) {
      error = std::current_exception();
    }
    log_handler_error(error, state);
    if (attempt_status == 500) break;
  }
  co_return status_response(500, true);
}

void ServerCore::log_handler_error(std::exception_ptr error,
                                   const detail::RequestState& state) const {
  // The fields upstream's bound handler context gives every record of a handler.
  LogFields fields;
  if (state.status_code && state.error_spec) {
    fields = {{"handler", boost::json::string(state.error_spec->name)},
              {"type", "tomodachi.http_error"},
              {"status_code", *state.status_code}};
  } else if (state.route) {
    const bool websocket = state.route->spec->kind == detail::HttpSpecKind::websocket;
    fields = {{"handler", boost::json::string(state.route->spec->name)},
              {"type", websocket ? "tomodachi.websocket" : "tomodachi.http"}};
  }
  log_uncaught_exception(error, std::move(fields));
}

// ---- writing -------------------------------------------------------------------------

asio::const_buffer ServerCore::format_response(Connection& connection, const WireResponse& wire,
                                               bool head, const KeepAliveDecision& keep_alive,
                                               bool force_close) {
  auto& out = connection.out;
  out.clear();
  out += "HTTP/1.1 ";
  char digits[24];
  int status = wire.status >= 100 && wire.status <= 999 ? wire.status : 500;
  out.append(digits, std::to_chars(digits, digits + sizeof digits, status).ptr);
  out += ' ';
  std::string_view reason =
      wire.reason.empty() ? reason_phrase(status) : std::string_view(wire.reason);
  if (!valid_header_value(reason)) reason = reason_phrase(status);
  out += reason;
  out += "\r\nServer: ";
  out += server_header_;
  out += "\r\nDate: ";
  out += http_date();
  out += "\r\n";
  if (!wire.content_type.empty()) {
    out += "Content-Type: ";
    out += wire.content_type;
    out += "\r\n";
  }
  for (const auto& [name, value] : wire.headers) {
    if (iequals(name, "Content-Length") || iequals(name, "Connection") ||
        iequals(name, "Keep-Alive") || iequals(name, "Transfer-Encoding") ||
        iequals(name, "Server") || iequals(name, "Date")) {
      continue;
    }
    if (!valid_header_name(name) || !valid_header_value(value)) continue;  // never split headers
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  bool no_body_status = status == 204 || status == 304 || (status >= 100 && status < 200);
  if (!no_body_status) {
    out += "Content-Length: ";
    out.append(digits, std::to_chars(digits, digits + sizeof digits, wire.body.size()).ptr);
    out += "\r\n";
  }
  if (keep_alive.keep_alive && !force_close) {
    out += "Connection: keep-alive\r\nKeep-Alive: ";
    out += keep_alive.keep_alive_header;
    out += "\r\n\r\n";
  } else {
    out += "Connection: close\r\n\r\n";
  }
  const bool send_body = !(head || no_body_status);
  return asio::buffer(wire.body.data(), send_body ? wire.body.size() : 0);
}

Task<bool> ServerCore::write_response(Connection& connection, WireResponse& wire, bool head,
                                      const KeepAliveDecision& keep_alive, bool force_close) {
  asio::const_buffer body = format_response(connection, wire, head, keep_alive, force_close);
  bool ok = co_await write_all(connection, asio::buffer(connection.out), body);
  co_return ok;
}

Task<bool> ServerCore::write_simple(Connection& connection, int status, bool empty_body) {
  connection.linger = true;  // request bytes may be left unread: drain them before closing
  WireResponse wire = status_response(status, empty_body || status == 500);
  log_protocol_error(connection, status, static_cast<std::int64_t>(wire.body.size()));
  KeepAliveDecision close;
  bool ok = co_await write_response(connection, wire, false, close, true);
  co_return ok;
}

void ServerCore::log_protocol_error(Connection& connection, int status, std::int64_t length) const {
  if (!access_log_) return;
  LogFields fields{{"status_code", status}, {"remote_ip", boost::json::string(connection.peer_ip)}};
  if (status == 408) {
    access_logger_.info("bad http request", std::move(fields));
    return;
  }
  fields.push_back({"response_content_length", length});
  if (status >= 500) {
    access_logger_.warning("error in request handling", std::move(fields));
  } else {
    access_logger_.info("bad http request", std::move(fields));
  }
}

void ServerCore::log_access(const detail::RequestState&, const AccessLogEntry& entry,
                            const Route* route) const {
  if (!access_log_) return;
  if (route) {
    if (route->spec->ignore_logging) return;
    const auto& statuses = route->spec->ignore_logging_statuses;
    if (std::find(statuses.begin(), statuses.end(), entry.status) != statuses.end()) return;
  }
  if (!access_logger_.enabled(LogLevel::info)) return;
  access_logger_.info("", access_log_fields(entry));
}

void ServerCore::log_disconnected_while_writing(const detail::RequestState& state,
                                                const AccessLogEntry& entry) const {
  if (!access_log_) return;
  // Upstream's fields for this record (its handle_error): no lengths but the declared one.
  LogFields fields{{"status_code", 499}, {"remote_ip", boost::json::string(state.remote_ip)}};
  if (!state.auth_user.empty())
    fields.push_back({"auth_user", boost::json::string(state.auth_user)});
  fields.push_back({"request_method", boost::json::string(state.method)});
  fields.push_back({"request_path", boost::json::string(state.path)});
  if (!state.query.empty())
    fields.push_back({"request_query_string", boost::json::string(state.query)});
  fields.push_back({"http_version", boost::json::string(state.version)});
  if (entry.request_content_length)
    fields.push_back({"request_content_length", entry.request_content_length});
  fields.push_back({"user_agent", boost::json::string(entry.user_agent)});
  access_logger_.info("client disconnected during writing", std::move(fields));
}

// ---- static files --------------------------------------------------------------------

Task<ServerCore::StaticOutcome> ServerCore::serve_static(Connection& connection, const Route& route,
                                                         bool head,
                                                         const KeepAliveDecision& keep_alive) {
  auto& state = connection.request;
  StaticOutcome outcome;
  std::string_view filename;
  if (route.filename_group >= 0 &&
      static_cast<std::size_t>(route.filename_group) < state.match.groups.size()) {
    filename = state.match.groups[static_cast<std::size_t>(route.filename_group)];
  }
  // The path must stay inside the folder: no NUL, no `..` segment, and the real path
  // (symlinks resolved) strictly below the real base.
  bool suspicious = filename.empty() || filename.find('\0') != std::string_view::npos ||
                    filename.find('\\') != std::string_view::npos;
  std::string_view rest = filename;
  while (!suspicious && !rest.empty()) {
    auto slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (segment == "..") suspicious = true;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  std::string real;
  if (!suspicious) {
    std::string candidate = route.static_base;
    candidate.append(filename.front() == '/' ? filename.substr(1) : filename);
    char resolved[PATH_MAX];
    if (::realpath(candidate.c_str(), resolved) == nullptr) {
      suspicious = true;
    } else {
      real = resolved;
      if (real.size() <= route.static_base.size() ||
          real.compare(0, route.static_base.size(), route.static_base) != 0) {
        suspicious = true;
      }
    }
  }
  if (suspicious) {
    outcome.error_status = 404;
    co_return outcome;
  }
  // Open what was checked: O_NOFOLLOW refuses a last component swapped for a symlink since,
  // and fstat looks at the opened file itself (no check-then-use race on the name).
  int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    outcome.error_status = errno == EACCES || errno == EPERM ? 403 : 404;
    co_return outcome;
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {  // a directory, device or fifo
    outcome.error_status = 404;
    co_return outcome;
  }
  {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0)
      ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);  // O_NONBLOCK only kept open() off fifos
  }
  outcome.resolved_at = Clock::now();

  char last_modified_buffer[64];
  std::string_view last_modified;
  {
    std::tm tm{};
    std::time_t mtime = info.st_mtime;
    gmtime_r(&mtime, &tm);
    std::size_t n = std::strftime(last_modified_buffer, sizeof last_modified_buffer,
                                  "%a, %d %b %Y %H:%M:%S GMT", &tm);
    last_modified = std::string_view(last_modified_buffer, n);
  }
  const std::int64_t size = static_cast<std::int64_t>(info.st_size);
  const auto& message = *state.message;
  auto& out = connection.out;
  auto start_head = [&](std::string_view status_line) {
    out.clear();
    out += status_line;
    out += "\r\nServer: ";
    out += server_header_;
    out += "\r\nDate: ";
    out += http_date();
    out += "\r\n";
  };
  auto end_head = [&] {
    if (keep_alive.keep_alive) {
      out += "Connection: keep-alive\r\nKeep-Alive: ";
      out += keep_alive.keep_alive_header;
      out += "\r\n\r\n";
    } else {
      out += "Connection: close\r\n\r\n";
    }
  };
  connection.handling = false;

  // Conditional request: an unchanged file is answered with 304.
  if (auto since = message.find(bhttp::field::if_modified_since);
      since != message.end() &&
      std::string_view(since->value().data(), since->value().size()) == last_modified) {
    start_head("HTTP/1.1 304 Not Modified");
    out += "Last-Modified: ";
    out += last_modified;
    out += "\r\n";
    end_head();
    bool sent = co_await write_all(connection, asio::buffer(out), asio::const_buffer());
    outcome.status = 304;
    outcome.length = sent ? 0 : -1;
    co_return outcome;
  }

  // One byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`); several ranges get the whole file.
  std::int64_t first = 0;
  std::int64_t last = size - 1;
  bool partial = false;
  if (auto range = message.find(bhttp::field::range); range != message.end()) {
    std::string_view value(range->value().data(), range->value().size());
    if (value.starts_with("bytes=") && value.find(',') == std::string_view::npos) {
      value.remove_prefix(6);
      auto dash = value.find('-');
      auto number = [](std::string_view text, std::int64_t& out_value) {
        if (text.empty()) return false;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out_value);
        return error == std::errc() && end == text.data() + text.size();
      };
      std::int64_t a = 0;
      std::int64_t b = 0;
      bool valid = dash != std::string_view::npos;
      if (valid && dash == 0) {  // suffix: the last n bytes
        valid = number(value.substr(1), b) && b > 0;
        if (valid) first = std::max<std::int64_t>(0, size - b);
      } else if (valid) {
        valid = number(value.substr(0, dash), a);
        if (valid) first = a;
        if (valid && dash + 1 < value.size()) {
          valid = number(value.substr(dash + 1), b) && b >= a;
          if (valid) last = std::min(b, size - 1);
        }
      }
      if (valid && (first >= size || size == 0)) {
        start_head("HTTP/1.1 416 Requested Range Not Satisfiable");
        out += "Content-Range: bytes */" + std::to_string(size) + "\r\nContent-Length: 0\r\n";
        end_head();
        bool sent = co_await write_all(connection, asio::buffer(out), asio::const_buffer());
        outcome.status = 416;
        outcome.length = sent ? 0 : -1;
        co_return outcome;
      }
      partial = valid;
      if (!partial) {
        first = 0;
        last = size - 1;
      }
    }
  }
  const std::int64_t length = size == 0 ? 0 : last - first + 1;

  // Head, then the bytes in 256 KiB chunks.
  start_head(partial ? "HTTP/1.1 206 Partial Content" : "HTTP/1.1 200 OK");
  out += "Content-Type: ";
  out += mime_type_for(real);
  out += "\r\nLast-Modified: ";
  out += last_modified;
  out += "\r\nAccept-Ranges: bytes\r\n";
  if (partial) {
    out += "Content-Range: bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
           std::to_string(size) + "\r\n";
  }
  out += "Content-Length: " + std::to_string(length) + "\r\n";
  end_head();
  outcome.status = partial ? 206 : 200;
  outcome.length = -1;
  bool head_sent = co_await write_all(connection, asio::buffer(out), asio::const_buffer());
  if (!head_sent) co_return outcome;
  if (!head && length > 0) {
    if (first > 0 && ::lseek(fd, static_cast<off_t>(first), SEEK_SET) < 0) co_return outcome;
    constexpr std::int64_t chunk_size = 256 * 1024;
    std::string chunk(static_cast<std::size_t>(std::min(chunk_size, length)), '\0');
    std::int64_t remaining = length;
    while (remaining > 0) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::int64_t>(chunk_size, remaining));
      ssize_t got = 0;
      int read_errno = 0;
      if (length <= chunk_size) {
        got = ::read(fd, chunk.data(), want);  // one small read: not worth a thread hop
        read_errno = errno;
      } else {
        // Large files: the reads (maybe from a slow disk) run off the loop.
        auto job = [fd, data = chunk.data(), want, &read_errno]() -> ssize_t {
          ssize_t n = ::read(fd, data, want);
          read_errno = errno;
          return n;
        };
        auto read_task = run_blocking(std::move(job));
        got = co_await std::move(read_task);
      }
      if (got <= 0) {
        http_logger_.warning(
            "unable to read static file",
            {{"file_path", boost::json::string(real)},
             {"error_message", boost::json::string(got < 0 ? std::strerror(read_errno)
                                                           : "file shrank while being sent")}});
        outcome.read_failed = true;
        co_return outcome;
      }
      bool chunk_sent =
          co_await write_all(connection, asio::buffer(chunk.data(), static_cast<std::size_t>(got)),
                             asio::const_buffer());
      if (!chunk_sent) co_return outcome;
      remaining -= got;
    }
  }
  outcome.length = length;
  co_return outcome;
}

// ---- websockets ----------------------------------------------------------------------

void ServerCore::log_websocket(const detail::RequestState& state, std::string_view ws_state,
                               std::optional<double> total_seconds) const {
  if (!access_log_) return;
  LogFields fields{{"websocket_state", boost::json::string(ws_state)},
                   {"remote_ip", boost::json::string(state.remote_ip)}};
  if (!state.auth_user.empty())
    fields.push_back({"auth_user", boost::json::string(state.auth_user)});
  fields.push_back({"request_path", boost::json::string(state.path)});
  if (!state.query.empty())
    fields.push_back({"request_query_string", boost::json::string(state.query)});
  fields.push_back({"websocket_id", boost::json::string(state.websocket_id)});
  std::string_view agent;
  if (state.message) {
    if (auto it = state.message->find(bhttp::field::user_agent); it != state.message->end()) {
      agent = std::string_view(it->value().data(), it->value().size());
    }
  }
  fields.push_back({"user_agent", boost::json::string(agent)});
  if (total_seconds)
    fields.push_back({"total_request_time", boost::json::string(format_seconds(*total_seconds))});
  // As upstream: `closed` comes from the request's access-log record (logger
  // tomodachi.http.response, so it also reaches the access-log file); open, cancelled and
  // error from the websocket handler (tomodachi.http.websocket).
  if (ws_state == "closed") {
    access_logger_.info("", std::move(fields));
  } else {
    websocket_logger_.info("", std::move(fields));
  }
}

Task<void> ServerCore::run_websocket(Connection& connection, Request& request) {
  auto& state = request.state();
  auto started = Clock::now();
  state.websocket_id = encoding::uuid4();
  if (!accepting_requests_ || stopping_) {
    log_websocket(state, "cancelled", std::nullopt);
    co_await write_simple(connection, 503);
    co_return;
  }
  // Validate the handshake here so a bad one gets the same 400 as every protocol error
  // (Connection: close, Server, plain text) instead of Beast's own answer.
  const auto& message = *state.message;
  auto key = message.find(bhttp::field::sec_websocket_key);
  auto version = message.find(bhttp::field::sec_websocket_version);
  if (!bws::is_upgrade(message) || key == message.end() || key->value().size() != 24 ||
      version == message.end() || version->value() != "13") {
    log_websocket(state, "cancelled", std::nullopt);
    co_await write_simple(connection, 400);
    co_return;
  }
  connection.upgraded = true;
  connection.watchdog.cancel();
  boost::system::error_code blocking_ec;
  connection.socket.non_blocking(false, blocking_ec);
  auto ws_state = std::make_shared<detail::WebsocketState>(std::move(connection.socket));
  ws_state->id = state.websocket_id;
  auto& ws = ws_state->ws;
  ws.read_message_max(websocket_max_message_);
  // A dead or silent peer: a ping every half of the idle timeout, cut when nothing (not
  // even a pong) came for the whole of it. A peer that stops reading: the write timeout.
  bws::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(30);
  if (websocket_idle_timeout_.count() > 0) {
    timeouts.idle_timeout = websocket_idle_timeout_;
    timeouts.keep_alive_pings = true;
    ws_state->write_timeout = websocket_idle_timeout_;
  } else {
    timeouts.idle_timeout = bws::stream_base::none();
    timeouts.keep_alive_pings = false;
  }
  ws.set_option(timeouts);
  ws.set_option(
      bws::stream_base::decorator([server = server_header_](bws::response_type& response) {
        response.set(bhttp::field::server, server);
      }));
  {
    // Bytes already read past the request head belong to the websocket.
    auto [ec] = co_await ws.async_accept(*state.message, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      log_websocket(state, "cancelled", std::nullopt);
      boost::system::error_code ignored;
      beast::get_lowest_layer(ws).close(ignored);
      co_return;
    }
  }
  if (connection.buffer.size() > 0) {
    // A client that pipelined frames right after its handshake: not supported, those
    // bytes are dropped (browsers never do this).
    connection.buffer.consume(connection.buffer.size());
  }
  Websocket handle(ws_state);
  state.websocket = &handle;
  websockets_.push_front(ws_state);
  auto position = websockets_.begin();
  log_websocket(state, "open", std::nullopt);

  std::exception_ptr error;
  try {
    Response ignored = co_await run_chain(0, request, 2);
    (void)ignored;
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    log_handler_error(error, state);
    log_websocket(state, "error", std::nullopt);
    websockets_.erase(position);
    if (!ws_state->closing) {
      auto slot = acquire_write(ws_state);
      co_await std::move(slot);
      if (!ws_state->closing) {
        ws_state->closing = true;
        arm_write_timeout(ws_state);
        auto [ec] = co_await ws.async_close(bws::close_code::internal_error,
                                            asio::as_tuple(asio::use_awaitable));
        (void)ec;
        ws_state->write_timer.cancel();
      }
      release_write(*ws_state);
    }
    co_return;
  }
  WebsocketCallbacks callbacks =
      state.websocket_callbacks ? std::move(*state.websocket_callbacks) : WebsocketCallbacks{};
  beast::flat_buffer frames;
  for (;;) {
    frames.clear();
    auto [ec, n] = co_await ws.async_read(frames, asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec) {
      if (ec == bws::error::message_too_big) {
        // Beast has already failed the connection with close code 1009.
      }
      break;
    }
    if (!ws.got_text() || !callbacks.on_receive) continue;  // binary frames are not delivered
    std::string text = beast::buffers_to_string(frames.data());
    std::exception_ptr receive_error;
    try {
      auto task = callbacks.on_receive(std::move(text));
      co_await std::move(task);
    } catch (...) {
      receive_error = std::current_exception();
    }
    if (receive_error) log_handler_error(receive_error, state);
  }
  if (callbacks.on_close) {
    std::exception_ptr close_error;
    try {
      auto task = callbacks.on_close();
      co_await std::move(task);
    } catch (...) {
      close_error = std::current_exception();
    }
    if (close_error) log_handler_error(close_error, state);
  }
  websockets_.erase(position);
  ws_state->closing = true;
  if (ws.is_open()) {
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws).close(ignored);
  }
  log_websocket(state, "closed", seconds_since(started));
}

// ---- shutdown ------------------------------------------------------------------------

void ServerCore::stop_listening() noexcept {
  stopping_ = true;  // 1. keep-alive off for every further response
  if (acceptor_) {   // 2. stop listening: new connections are refused
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  }
  {
    std::lock_guard lock(ports_mutex);
    bound_ports().erase(&service_);
  }
  // Idle keep-alive connections have no request to finish: close them now.
  for (Connection* connection : connections_) {
    if (connection->idle && !connection->upgraded) connection->cut();
  }
}

Task<void> ServerCore::pause(Clock::duration duration, Deadline deadline) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(
      executor, std::min(duration, std::max(Clock::duration::zero(), deadline - Clock::now())));
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// Upstream's stop steps (spec §9), each bounded by the one process deadline; where upstream
// sleeps a fixed second, this waits at most that long and goes on as soon as there is
// nothing to wait for.
Task<void> ServerCore::stop(Deadline deadline) {
  auto self = shared_from_this();
  auto executor = co_await asio::this_coro::executor;
  constexpr auto step = std::chrono::milliseconds(25);
  stop_listening();  // 1-2. keep-alive off, listener closed, idle keep-alive connections closed
  auto receiving = [this] {  // connections reading a request head or body
    return std::any_of(connections_.begin(), connections_.end(), [](const Connection* connection) {
      return !connection->idle && !connection->handling && !connection->upgraded;
    });
  };
  // 3-4. Without keep-alive, requests that have not reached their handler within a second
  // get 503 (upstream: sleep 1 s, then stop accepting).
  if (!keep_alive_.enabled()) {
    auto until = std::min(deadline, Clock::now() + std::chrono::seconds(1));
    while (receiving() && Clock::now() < until) {
      auto wait = pause(step, deadline);
      co_await std::move(wait);
    }
    accepting_requests_ = false;
  }
  // 5. Close websockets (in parallel, at most 10 s).
  if (!websockets_.empty()) {
    http_logger_.info("closing websocket connections",
                      {{"connection_count", static_cast<std::int64_t>(websockets_.size())}});
    for (const auto& ws_state : websockets_) {
      if (ws_state->closing) continue;
      auto closer = [ws_state]() -> Task<void> {
        auto slot = acquire_write(ws_state);
        co_await std::move(slot);
        if (!ws_state->closing) {
          ws_state->closing = true;
          arm_write_timeout(ws_state);
          auto [ec] = co_await ws_state->ws.async_close(bws::close_code::going_away,
                                                        asio::as_tuple(asio::use_awaitable));
          (void)ec;
          ws_state->write_timer.cancel();
        }
        release_write(*ws_state);
      };
      asio::co_spawn(executor, std::move(closer), asio::detached);
    }
    auto ws_deadline = std::min(deadline, Clock::now() + std::chrono::seconds(10));
    while (!websockets_.empty() && Clock::now() < ws_deadline) {
      auto wait = pause(step, deadline);
      co_await std::move(wait);
    }
  }
  // 6-7. With keep-alive: wait for requests and connections to finish together.
  int grace = service_.options.http.termination_grace_period_seconds > 0
                  ? service_.options.http.termination_grace_period_seconds
                  : 30;
  bool requests_logged = false;
  auto log_awaiting_requests = [&] {
    requests_logged = true;
    http_logger_.info("awaiting requests to complete",
                      {{"request_count", static_cast<std::int64_t>(active_requests_)},
                       {"grace_period_seconds", grace}});
  };
  if (keep_alive_.enabled() && !connections_.empty()) {
    const auto wait_started = Clock::now();
    const auto until = std::min(deadline, wait_started + std::chrono::seconds(std::max(2, grace)));
    bool logged = false;
    while ((active_requests_ > 0 || !connections_.empty()) && Clock::now() < until) {
      if (!logged) {
        logged = true;
        if (connections_.size() != active_requests_) {
          http_logger_.info("awaiting keep-alive connections",
                            {{"connection_count", static_cast<std::int64_t>(connections_.size())}});
        }
        if (active_requests_ > 0) log_awaiting_requests();
      }
      for (Connection* connection : connections_) {
        if (connection->idle && !connection->upgraded) connection->cut();  // answered: close now
      }
      auto wait = pause(step, deadline);
      co_await std::move(wait);
    }
    grace -= static_cast<int>(
        std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - wait_started).count());
  }
  accepting_requests_ = false;  // 8. 503 from now on
  // 9. Await the requests still running.
  if (active_requests_ > 0) {
    if (!requests_logged) log_awaiting_requests();
    const auto until = std::min(deadline, Clock::now() + std::chrono::seconds(std::max(2, grace)));
    while (active_requests_ > 0 && Clock::now() < until) {
      auto wait = pause(step, deadline);
      co_await std::move(wait);
    }
  }
  // Responses of just-finished requests are being written: give them a moment.
  auto write_deadline = std::min(deadline, Clock::now() + std::chrono::milliseconds(500));
  while (!connections_.empty() && Clock::now() < write_deadline) {
    for (Connection* connection : connections_) {
      if (connection->idle && !connection->upgraded) connection->cut();
    }
    auto wait = pause(std::chrono::milliseconds(10), deadline);
    co_await std::move(wait);
  }
  if (active_requests_ > 0) {
    http_logger_.warning(
        "all requests did not gracefully finish execution",
        {{"remaining_request_count", static_cast<std::int64_t>(active_requests_)}});
  }
  // 11. Stragglers.
  if (!connections_.empty() || !websockets_.empty()) {
    http_logger_.warning("forcefully closing open tcp connections",
                         {{"connection_count",
                           static_cast<std::int64_t>(connections_.size() + websockets_.size())}});
    for (Connection* connection : connections_) {
      if (!connection->upgraded) connection->cut();
    }
    for (const auto& ws_state : websockets_) {
      ws_state->closing = true;
      boost::system::error_code ignored;
      beast::get_lowest_layer(ws_state->ws).close(ignored);
    }
  }
  // 12. Access-log file.
  if (access_log_sink_ >= 0) {
    remove_log_sink(access_log_sink_);
    access_log_sink_ = -1;
  }
}

// ---- transport instance --------------------------------------------------------------

HttpTransport::HttpTransport(Service& service, std::vector<const detail::HttpSpec*> specs)
    : core_(std::make_shared<ServerCore>(service, std::move(specs))) {}

HttpTransport::~HttpTransport() = default;

Task<void> HttpTransport::setup() {
  core_->setup();
  co_return;
}

Task<void> HttpTransport::start() {
  auto core = core_;
  co_await core->start();
}

void HttpTransport::stop_requested() noexcept { core_->stop_listening(); }

Task<void> HttpTransport::stop(Deadline deadline) {
  auto core = core_;
  co_await core->stop(deadline);
}

int HttpTransport::port() const noexcept { return core_->port(); }

std::unique_ptr<TransportInstance> make_http_transport(Service& service,
                                                       std::vector<const HandlerSpec*> specs) {
  std::vector<const detail::HttpSpec*> http_specs;
  for (const auto* spec : specs) {
    if (const auto* http_spec = dynamic_cast<const detail::HttpSpec*>(spec))
      http_specs.push_back(http_spec);
  }
  return std::make_unique<HttpTransport>(service, std::move(http_specs));
}

}  // namespace http_impl

// ---- public API implemented against the server types -----------------------------------

std::string_view Request::method() const noexcept { return state_->method; }
std::string_view Request::path() const noexcept { return state_->path; }
std::string_view Request::target() const noexcept { return state_->target; }
std::string_view Request::query_string() const noexcept { return state_->query; }
std::string_view Request::http_version() const noexcept { return state_->version; }
std::string_view Request::body() const noexcept {
  return state_->message ? std::string_view(state_->message->body()) : std::string_view();
}
std::string_view Request::remote_ip() const noexcept { return state_->remote_ip; }
std::string_view Request::auth_user() const noexcept { return state_->auth_user; }
std::optional<int> Request::status_code() const noexcept { return state_->status_code; }
std::string_view Request::websocket_id() const noexcept { return state_->websocket_id; }
boost::json::object& Request::context() noexcept { return state_->context; }

std::optional<std::string> Request::query(std::string_view name) const {
  std::string_view rest = state_->query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    auto eq = pair.find('=');
    std::string key(pair.substr(0, eq));
    std::replace(key.begin(), key.end(), '+', ' ');
    if (http_impl::percent_decode(key) != name) continue;
    std::string value(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    std::replace(value.begin(), value.end(), '+', ' ');
    return http_impl::percent_decode(value);
  }
  return std::nullopt;
}

const std::vector<FormField>& Request::form() const {
  if (!state_->form) {
    auto content_type = header("Content-Type");
    auto parsed = http_impl::parse_form(content_type.value_or(""), body());
    if (!parsed) throw HttpError(400, {}, "malformed multipart body");
    state_->form = std::move(*parsed);
  }
  return *state_->form;
}

const FormField* Request::form_field(std::string_view name) const {
  for (const auto& field : form()) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
  if (!state_->message) return std::nullopt;
  auto it = state_->message->find(beast::string_view(name.data(), name.size()));
  if (it == state_->message->end()) return std::nullopt;
  return std::string_view(it->value().data(), it->value().size());
}

std::vector<std::pair<std::string_view, std::string_view>> Request::headers() const {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  if (!state_->message) return out;
  for (const auto& field : *state_->message) {
    out.emplace_back(std::string_view(field.name_string().data(), field.name_string().size()),
                     std::string_view(field.value().data(), field.value().size()));
  }
  return out;
}

std::string_view Request::match(std::string_view name) const noexcept {
  if (!state_->route || state_->match.outcome != http_impl::Router::Outcome::found) return {};
  int index = state_->server->router().group_index(state_->match.route, name);
  if (index < 0 || static_cast<std::size_t>(index) >= state_->match.groups.size()) return {};
  return state_->match.groups[static_cast<std::size_t>(index)];
}

bool Request::matched(std::string_view name) const noexcept {
  if (!state_->route || state_->match.outcome != http_impl::Router::Outcome::found) return false;
  int index = state_->server->router().group_index(state_->match.route, name);
  if (index < 0 || static_cast<std::size_t>(index) >= state_->match.groups.size()) return false;
  return state_->match.groups[static_cast<std::size_t>(index)].data() != nullptr;
}

bool Request::is_connected() const noexcept {
  if (!state_->connection) return false;
  if (state_->connection->upgraded) return state_->websocket && !state_->websocket->closed();
  return http_impl::peer_connected(state_->connection->socket.native_handle());
}

Logger Request::logger() const {
  LogFields fields;
  if (state_->status_code && state_->error_spec) {
    fields = {{"handler", boost::json::string(state_->error_spec->name)},
              {"type", "tomodachi.http_error"},
              {"status_code", *state_->status_code}};
  } else if (state_->route) {
    const bool websocket = state_->route->spec->kind == detail::HttpSpecKind::websocket;
    fields = {{"handler", boost::json::string(state_->route->spec->name)},
              {"type", websocket ? "tomodachi.websocket" : "tomodachi.http"}};
  }
  return Logger("tomodachi.http.handler", std::move(fields));
}

int get_http_response_status(const Response& value, const Request* request) {
  if (request && !request->is_connected()) return 499;
  return value.status ? value.status : 200;
}

int get_http_response_status(std::exception_ptr error, const Request* request) {
  if (request && !request->is_connected()) return 499;
  if (!error) return 200;
  try {
    std::rethrow_exception(error);
  } catch (const HttpError& http_error) {
    return http_error.status();
  } catch (...) {
    return 500;
  }
}

std::optional<int> http_port(const Service& service) {
  std::lock_guard lock(http_impl::ports_mutex);
  auto& ports = http_impl::bound_ports();
  auto it = ports.find(&service);
  if (it == ports.end()) return std::nullopt;
  return it->second;
}

std::string_view http_server_version() noexcept { return BOOST_BEAST_VERSION_STRING; }

// ---- websocket handle ----------------------------------------------------------------

namespace {
// Free coroutines owning a reference to the connection state: what Websocket's members
// return, so a send started from a temporary handle (`spawn(copy.send_str(...))`) never
// reads the handle after it is gone.
Task<void> websocket_write(std::shared_ptr<detail::WebsocketState> state, std::string data,
                           bool binary) {
  if (!state || state->closing) {
    throw std::system_error(std::make_error_code(std::errc::not_connected), "websocket is closed");
  }
  auto slot = acquire_write(state);
  co_await std::move(slot);
  if (state->closing) {
    release_write(*state);
    throw std::system_error(std::make_error_code(std::errc::not_connected), "websocket is closed");
  }
  state->ws.binary(binary);
  arm_write_timeout(state);
  auto [ec, n] =
      co_await state->ws.async_write(asio::buffer(data), asio::as_tuple(asio::use_awaitable));
  (void)n;
  state->write_timer.cancel();
  release_write(*state);
  if (ec) throw boost::system::system_error(ec, "websocket send failed");
}

Task<void> websocket_close(std::shared_ptr<detail::WebsocketState> state, int code,
                           std::string reason) {
  if (!state || state->closing) co_return;
  auto slot = acquire_write(state);
  co_await std::move(slot);
  if (!state->closing) {
    state->closing = true;
    bws::close_reason close_reason;
    close_reason.code = static_cast<std::uint16_t>(code);
    close_reason.reason = beast::static_string<123>(reason.substr(0, 123));
    arm_write_timeout(state);
    auto [ec] = co_await state->ws.async_close(close_reason, asio::as_tuple(asio::use_awaitable));
    (void)ec;
    state->write_timer.cancel();
  }
  release_write(*state);
}
}  // namespace

Task<void> Websocket::send_str(std::string text) {
  return websocket_write(state_, std::move(text), false);
}

Task<void> Websocket::send_bytes(std::string bytes) {
  return websocket_write(state_, std::move(bytes), true);
}

Task<void> Websocket::close(int code, std::string reason) {
  return websocket_close(state_, code, std::move(reason));
}

bool Websocket::closed() const noexcept {
  return !state_ || state_->closing || !state_->ws.is_open();
}
std::string_view Websocket::id() const noexcept {
  return state_ ? std::string_view(state_->id) : std::string_view();
}

}  // namespace tomodachi
