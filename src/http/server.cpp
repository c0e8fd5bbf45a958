// The HTTP transport of one service: options, the listener, the accept loop and the stop
// (spec/http.md §6 listening, §9 drain). Each accepted connection runs a session
// (session.cpp); requests go through the pipeline (pipeline.cpp).

#include "http/server.hpp"

#include "http/server_state.hpp"
#include "http/session.hpp"
#include "http/websocket_session.hpp"
#include "telemetry/tracer.hpp"

#include <tomodachi/context.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/transport/health.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>

namespace tomodachi {
namespace http_impl {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::string lower_ascii(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::mutex ports_mutex;
std::map<const Service*, int>& bound_ports() {
  static std::map<const Service*, int> ports;
  return ports;
}

}  // namespace

/// The listener of one service and the state its sessions share (which may outlive the
/// transport instance by a few loop iterations: they hold the core).
class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(Service& service, std::vector<const detail::HttpSpec*> specs)
      : service_(service), specs_(std::move(specs)), state_(service) {}

  void setup();
  Task<void> start();
  void stop_listening() noexcept;
  Task<void> stop(Deadline deadline);
  int port() const noexcept { return port_; }

 private:
  void open_access_log_file();
  /// The bound acceptor, or the error (warned about) that prevented it.
  tcp::acceptor bind(const asio::any_io_executor& executor, const std::string& host,
                     int requested_port);
  void register_port();
  Task<void> accept_loop();
  /// Every second while listening: frees the buffers of idle connections (session.hpp).
  Task<void> idle_sweep();
  void warn_accept_error(const boost::system::error_code& ec);
  /// Closes the connections waiting for their next request (they have nothing to finish).
  void cut_idle() noexcept;
  /// From now on every request is answered 503; a body still arriving is not waited for.
  void stop_accepting() noexcept;
  Task<void> close_websockets(Deadline deadline);
  Task<void> await_connections(int& grace, Deadline deadline);
  Task<void> pause(Clock::duration duration, Deadline deadline);

  Service& service_;
  std::vector<const detail::HttpSpec*> specs_;
  ServerState state_;
  std::string access_log_file_;
  int access_log_sink_ = -1;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<asio::steady_timer> sweep_timer_;
  ReadinessReport readiness_;  ///< `http:<port>`: passes while the listener accepts
  int port_ = 0;
  bool requests_logged_ = false;
  Clock::time_point accept_warned_at_{};
  std::uint64_t accept_errors_suppressed_ = 0;
};

// ---- set-up --------------------------------------------------------------------------

void ServerCore::setup() {
  const auto& http = service_.options.http;
  auto& limits = state_.limits;
  limits.keep_alive = keepalive_config(http);
  limits.client_max_size = parse_client_max_size(http.client_max_size);
  limits.server_header = http.server_header;
  if (const bool* enabled = std::get_if<bool>(&http.access_log)) {
    state_.access_log.enabled = *enabled;
  } else {
    access_log_file_ = std::get<std::string>(http.access_log);
    state_.access_log.enabled = true;
  }
  if (http.max_header_size < 256) {
    throw OptionError("Too low value for http option max_header_size: " +
                      std::to_string(http.max_header_size));
  }
  limits.framing = framing_limits(http, static_cast<std::uint64_t>(limits.client_max_size));
  limits.header_timeout = std::chrono::seconds(std::max(1, http.header_read_timeout));
  limits.body_timeout = std::chrono::seconds(std::max(1, http.body_read_timeout));
  limits.websocket_max_message =
      static_cast<std::size_t>(std::max(1, http.websocket_max_message_size));
  limits.websocket_idle_timeout = std::chrono::seconds(std::max(0, http.websocket_idle_timeout));
  state_.pipeline.setup(specs_,
                        PipelineConfig{content_defaults(http.content_type, http.charset),
                                       parse_ip_networks(http.real_ip_from), http.real_ip_header});
  state_.health = service_.options.health;
}

void ServerCore::open_access_log_file() {
  if (access_log_file_.empty()) return;
  std::filesystem::path path(access_log_file_);
  auto parent = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(parent)) {
    state_.http_logger.warning("Unable to use file for access log - invalid path (\"" +
                               access_log_file_ + "\")");
    throw HttpException("Unable to use file for access log - invalid path (\"" + access_log_file_ +
                        "\")");
  }
  try {
    access_log_sink_ = add_json_file_sink(path, [](const LogRecord& record) {
      return record.logger == "tomodachi.http.response" ||
             (record.logger == "tomodachi.http" && record.message &&
              *record.message == "accepting http requests");
    });
  } catch (const std::exception& error) {
    state_.http_logger.warning("Unable to use file for access log - invalid permissions (\"" +
                               access_log_file_ + "\")");
    throw HttpException(std::string("Unable to use file for access log - invalid permissions: ") +
                        error.what());
  }
}

tcp::acceptor ServerCore::bind(const asio::any_io_executor& executor, const std::string& host,
                               int requested_port) {
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
    if (!ec && service_.options.http.reuse_port) {
      int one = 1;
      if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        ec.assign(errno, boost::system::system_category());
      }
    }
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (!ec) return acceptor;
  std::string message = lower_ascii(ec.message());
  if (access_log_sink_ >= 0) {
    remove_log_sink(access_log_sink_);
    access_log_sink_ = -1;
  }
  state_.http_logger.warning("unable to bind service [http] to " + listen_url(host, requested_port),
                             {{"host", boost::json::string(host)},
                              {"port", requested_port},
                              {"error_message", boost::json::string(message)}});
  throw HttpException("unable to bind service [http] to " + listen_url(host, requested_port) +
                      ": " + message);
}

void ServerCore::register_port() {
  bool shared_port = false;
  {
    std::lock_guard lock(ports_mutex);
    for (const auto& [other, other_port] : bound_ports())
      shared_port |= other != &service_ && other_port == port_;
    bound_ports()[&service_] = port_;
  }
  if (service_.options.http.reuse_port && service_.options.http.port.value_or(0) == 0) {
    state_.http_logger.warning(
        "the http.reuse_port option has no use with a random port (http.port = 0)",
        {{"listen_port", port_}});
  }
  if (shared_port) {
    state_.http_logger.warning(
        "several services in this process listen on the same http port - the kernel spreads "
        "connections between them (http.reuse_port)",
        {{"listen_port", port_}});
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
  open_access_log_file();
  acceptor_.emplace(bind(executor, host, requested_port));
  port_ = acceptor_->local_endpoint().port();
  register_port();
  readiness_ = ReadinessReport("http:" + std::to_string(port_));
  readiness_.ok();

  set_execution_context({{"http_enabled", true}, {"http_server_version", http_server_version()}});
  (void)http_counters();

  state_.http_logger.info("accepting http requests",
                          {{"listen_url", boost::json::string(listen_url(host, port_))},
                           {"listen_host", boost::json::string(host)},
                           {"listen_port", port_}});
  asio::co_spawn(
      executor, [self = shared_from_this()]() { return self->accept_loop(); }, asio::detached);
  sweep_timer_.emplace(executor);
  asio::co_spawn(
      executor, [self = shared_from_this()]() { return self->idle_sweep(); }, asio::detached);
}

Task<void> ServerCore::idle_sweep() {
  auto self = shared_from_this();
  while (sweep_timer_ && acceptor_ && acceptor_->is_open()) {
    sweep_timer_->expires_after(std::chrono::seconds(1));
    auto [ec] = co_await sweep_timer_->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || !acceptor_ || !acceptor_->is_open()) break;  // cancelled: the stop began
    sweep_idle_connections(state_);
  }
}

Task<void> ServerCore::accept_loop() {
  auto self = shared_from_this();
  auto executor = co_await asio::this_coro::executor;
  // The sessions share the state and keep the core alive (an aliasing pointer).
  std::shared_ptr<ServerState> shared(self, &state_);
  while (acceptor_ && acceptor_->is_open()) {
    auto [ec, socket] = co_await acceptor_->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor_ || !acceptor_->is_open()) break;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning.
      warn_accept_error(ec);
      asio::steady_timer timer(executor, std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    // Traced: each connection's chain gets its own current-span slot, which the pipeline
    // sets per request (telemetry::with_span) instead of spawning a coroutine.
    asio::co_spawn(telemetry::traced_executor(executor), run_session(shared, std::move(socket)),
                   asio::detached);
  }
}

/// Warns at most every 10 s, with the number of failures not logged in between.
void ServerCore::warn_accept_error(const boost::system::error_code& ec) {
  if (Clock::now() - accept_warned_at_ < std::chrono::seconds(10)) {
    ++accept_errors_suppressed_;
    return;
  }
  LogFields fields{{"error_message", boost::json::string(lower_ascii(ec.message()))}};
  if (accept_errors_suppressed_ > 0) {
    fields.push_back({"suppressed_count", static_cast<std::int64_t>(accept_errors_suppressed_)});
  }
  state_.http_logger.warning("unable to accept http connection", std::move(fields));
  accept_warned_at_ = Clock::now();
  accept_errors_suppressed_ = 0;
}

// ---- shutdown ------------------------------------------------------------------------

void ServerCore::cut_idle() noexcept {
  for (Connection* connection : state_.connections) {
    if (connection->idle && !connection->upgraded) connection->cut();
  }
}

void ServerCore::stop_accepting() noexcept {
  state_.accepting_requests = false;
  for (Connection* connection : state_.connections) {
    boost::system::error_code ignored;
    if (connection->reading_body) connection->socket.cancel(ignored);  // the session answers 503
  }
}

void ServerCore::stop_listening() noexcept {
  state_.stopping = true;  // 1. keep-alive off for every further response
  readiness_.failing("the listener stopped accepting (stopping)");
  if (acceptor_) {  // 2. stop listening: new connections are refused
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  }
  if (sweep_timer_) sweep_timer_->cancel();
  {
    std::lock_guard lock(ports_mutex);
    bound_ports().erase(&service_);
  }
  cut_idle();  // idle keep-alive connections have no request to finish: close them now
}

Task<void> ServerCore::pause(Clock::duration duration, Deadline deadline) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(
      executor, std::min(duration, std::max(Clock::duration::zero(), deadline - Clock::now())));
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// 5. Close websockets (in parallel, at most 10 s).
Task<void> ServerCore::close_websockets(Deadline deadline) {
  if (state_.websockets.empty()) co_return;
  auto executor = co_await asio::this_coro::executor;
  state_.http_logger.info(
      "closing websocket connections",
      {{"connection_count", static_cast<std::int64_t>(state_.websockets.size())}});
  for (const auto& ws_state : state_.websockets) {
    if (ws_state->closing) continue;
    asio::co_spawn(executor,
                   close_websocket(ws_state, boost::beast::websocket::close_code::going_away),
                   asio::detached);
  }
  auto ws_deadline = std::min(deadline, Clock::now() + std::chrono::seconds(10));
  while (!state_.websockets.empty() && Clock::now() < ws_deadline) {
    auto wait = pause(std::chrono::milliseconds(25), deadline);
    co_await std::move(wait);
  }
}

// 6-7. With keep-alive: wait for requests and connections to finish together.
Task<void> ServerCore::await_connections(int& grace, Deadline deadline) {
  if (!state_.limits.keep_alive.enabled() || state_.connections.empty()) co_return;
  const auto wait_started = Clock::now();
  const auto until = std::min(deadline, wait_started + std::chrono::seconds(std::max(2, grace)));
  bool logged = false;
  while ((state_.active_requests > 0 || !state_.connections.empty()) && Clock::now() < until) {
    if (!logged) {
      logged = true;
      if (state_.connections.size() != state_.active_requests) {
        state_.http_logger.info(
            "awaiting keep-alive connections",
            {{"connection_count", static_cast<std::int64_t>(state_.connections.size())}});
      }
      if (state_.active_requests > 0) {
        requests_logged_ = true;
        state_.http_logger.info(
            "awaiting requests to complete",
            {{"request_count", static_cast<std::int64_t>(state_.active_requests)},
             {"grace_period_seconds", grace}});
      }
    }
    cut_idle();  // answered: close now
    auto wait = pause(std::chrono::milliseconds(25), deadline);
    co_await std::move(wait);
  }
  grace -= static_cast<int>(
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - wait_started).count());
}

// Upstream's stop steps (spec §9), each bounded by the one process deadline; where upstream
// sleeps a fixed second, this waits at most that long and goes on as soon as there is
// nothing to wait for.
Task<void> ServerCore::stop(Deadline deadline) {
  auto self = shared_from_this();
  stop_listening();  // 1-2. keep-alive off, listener closed, idle keep-alive connections closed
  auto receiving = [this] {  // connections reading a request head or body
    return std::any_of(state_.connections.begin(), state_.connections.end(),
                       [](const Connection* connection) {
                         return !connection->idle && !connection->handling && !connection->upgraded;
                       });
  };
  // 3-4. Without keep-alive, requests that have not reached their handler within a second
  // get 503 (upstream: sleep 1 s, then stop accepting).
  if (!state_.limits.keep_alive.enabled()) {
    auto until = std::min(deadline, Clock::now() + std::chrono::seconds(1));
    while (receiving() && Clock::now() < until) {
      auto wait = pause(std::chrono::milliseconds(25), deadline);
      co_await std::move(wait);
    }
    stop_accepting();
  }
  co_await close_websockets(deadline);
  int grace = service_.options.http.termination_grace_period_seconds > 0
                  ? service_.options.http.termination_grace_period_seconds
                  : 30;
  co_await await_connections(grace, deadline);
  stop_accepting();  // 8. 503 from now on
  // 9. Await the requests still running.
  if (state_.active_requests > 0) {
    if (!requests_logged_) {
      state_.http_logger.info("awaiting requests to complete",
                              {{"request_count", static_cast<std::int64_t>(state_.active_requests)},
                               {"grace_period_seconds", grace}});
    }
    const auto until = std::min(deadline, Clock::now() + std::chrono::seconds(std::max(2, grace)));
    while (state_.active_requests > 0 && Clock::now() < until) {
      auto wait = pause(std::chrono::milliseconds(25), deadline);
      co_await std::move(wait);
    }
  }
  // Responses of just-finished requests are being written: give them a moment.
  auto write_deadline = std::min(deadline, Clock::now() + std::chrono::milliseconds(500));
  while (!state_.connections.empty() && Clock::now() < write_deadline) {
    cut_idle();
    auto wait = pause(std::chrono::milliseconds(10), deadline);
    co_await std::move(wait);
  }
  if (state_.active_requests > 0) {
    state_.http_logger.warning(
        "all requests did not gracefully finish execution",
        {{"remaining_request_count", static_cast<std::int64_t>(state_.active_requests)}});
  }
  // 11. Stragglers.
  if (!state_.connections.empty() || !state_.websockets.empty()) {
    state_.http_logger.warning(
        "forcefully closing open tcp connections",
        {{"connection_count",
          static_cast<std::int64_t>(state_.connections.size() + state_.websockets.size())}});
    for (Connection* connection : state_.connections) {
      if (!connection->upgraded) connection->cut();
    }
    for (const auto& ws_state : state_.websockets) cut_websocket(*ws_state);
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
                                                       std::vector<const detail::HttpSpec*> specs) {
  return std::make_unique<HttpTransport>(service, std::move(specs));
}

}  // namespace http_impl

std::optional<int> http_port(const Service& service) {
  std::lock_guard lock(http_impl::ports_mutex);
  auto& ports = http_impl::bound_ports();
  auto it = ports.find(&service);
  if (it == ports.end()) return std::nullopt;
  return it->second;
}

std::string_view http_server_version() noexcept { return BOOST_BEAST_VERSION_STRING; }

}  // namespace tomodachi
