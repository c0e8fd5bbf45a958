#include "amqp/connection.hpp"

#include "amqp/methods.hpp"
#include "amqp/settlement.hpp"

#include <tomodachi/logging.hpp>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/string.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <variant>

namespace tomodachi::rabbitmq {
namespace {

using Clock = Connection::Clock;
using VoidHandler = boost::asio::any_completion_handler<void(std::exception_ptr)>;
using StepHandler = boost::asio::any_completion_handler<void(std::exception_ptr, StepResult)>;

constexpr int frames_per_round = 512;
constexpr int publishes_per_round = 512;
constexpr std::chrono::milliseconds close_rpc_timeout{2000};
constexpr std::chrono::milliseconds min_close_rpc_timeout{100};
constexpr std::chrono::milliseconds stop_connect_timeout{500};

const Logger& log() {
  static const Logger logger("tomodachi.amqp");
  return logger;
}

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string lower_first(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

// rabbitmq-c loses the errno of a failed connect(); ask the network ourselves so the log
// says "connection refused" / "no route to host" like upstream does.
std::string probe_connect_error(const std::string& host, int port,
                                std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return "hostname resolution failed: " + std::string(::gai_strerror(rc));
  }
  std::string reason = "socket error";
  for (addrinfo* a = found; a; a = a->ai_next) {
    const int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int error = 0;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
        socklen_t length = sizeof(error);
        if (ready == 0) {
          error = ETIMEDOUT;
        } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
          error = errno;
        }
      }
    }
    ::close(fd);
    if (error == 0) {
      reason = "the connection closed during the handshake";
      break;
    }
    reason = lower_first(std::strerror(error));
  }
  ::freeaddrinfo(found);
  return reason;
}

std::string describe_status(int status) { return amqp_error_string2(status); }

// "ACCESS_REFUSED - Login was refused ..." or the library's error text.
std::string describe_reply(const amqp_rpc_reply_t& reply) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return "ok";
    case AMQP_RESPONSE_NONE:
      return "no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return describe_status(reply.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* close = static_cast<const amqp_connection_close_t*>(reply.reply.decoded);
        return to_string(close->reply_text);
      }
      if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* close = static_cast<const amqp_channel_close_t*>(reply.reply.decoded);
        return to_string(close->reply_text);
      }
      return "unexpected method from the broker";
  }
  return "unknown error";
}

// Text between the first pair of single quotes ("no exchange 'x' in vhost '/'" -> x).
std::optional<std::string> quoted_name(const std::string& text) {
  const auto start = text.find('\'');
  if (start == std::string::npos) return std::nullopt;
  const auto end = text.find('\'', start + 1);
  if (end == std::string::npos) return std::nullopt;
  return text.substr(start + 1, end - start - 1);
}

struct BrokerError {
  int code = 0;
  std::string text;
};

std::exception_ptr step_error(const TopologyStep& step, const BrokerError& error) {
  if (error.code == AMQP_RESOURCE_LOCKED && std::holds_alternative<QueueDeclareStep>(step)) {
    return std::make_exception_ptr(AmqpExclusiveQueueLockedException(
        describe(step) + " failed: " + std::to_string(error.code) + " " + error.text));
  }
  if (error.code == 0) {
    return std::make_exception_ptr(
        AmqpConnectionException(describe(step) + " failed: " + error.text));
  }
  return std::make_exception_ptr(AmqpChannelClosed(
      error.code, error.text,
      describe(step) + " failed: " + std::to_string(error.code) + " " + error.text));
}

// ---- commands from the loop ----------------------------------------------------------------

struct PublishCompletion {
  std::optional<VoidHandler> handler;                // an awaiting coroutine
  std::function<void(std::exception_ptr)> callback;  // a detached publish
};

struct PendingPublish {
  OutgoingMessage message;
  Clock::time_point deadline;
  PublishCompletion completion;
  std::optional<std::string> returned;  // basic.return received: "312 NO_ROUTE"
};

struct ReadyPublish {
  PublishCompletion completion;
  std::exception_ptr error;
};

struct ConnectCommand {
  VoidHandler handler;
  Clock::time_point deadline;  // the first connect gives up here (a publish's timeout)
};
struct ExecuteCommand {
  TopologyStep step;
  StepHandler handler;
};
struct PublishCommand {
  PendingPublish publish;
};
struct AckCommand {
  std::uint64_t epoch;
  std::uint64_t delivery_tag;
  bool ack;
  bool requeue;
};
struct CancelCommand {
  std::vector<std::uint32_t> consumer_ids;
  VoidHandler handler;
};
struct CloseCommand {
  Clock::time_point deadline;
  std::function<void()> closed;  // posted to the loop once closed (none from the destructor)
  bool exit_thread = false;      // from the destructor: the I/O thread ends after closing
};
struct NetworkFailureCommand {};

using Command = std::variant<ConnectCommand, ExecuteCommand, PublishCommand, AckCommand,
                             CancelCommand, CloseCommand, NetworkFailureCommand>;

struct StepJob {
  TopologyStep step;
  std::optional<StepHandler> handler;  // none: a replay after reconnect
};

struct Expectation {
  amqp_method_number_t reply_id;
  std::function<void(const amqp_method_t* reply, const BrokerError* error)> done;
};

struct CancelJob {
  std::set<std::string> remaining_tags;
  VoidHandler handler;
};

}  // namespace

// ---- the I/O thread ------------------------------------------------------------------------

struct Connection::Impl : std::enable_shared_from_this<Connection::Impl> {
  enum class State { idle, connected, reconnecting, closing, closed };

  Impl(ConnectionSettings s, boost::asio::any_io_executor l)
      : settings(std::move(s)), loop(std::move(l)) {
    event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  ~Impl() {
    if (event_fd >= 0) ::close(event_fd);
  }

  // -- shared with the loop (guarded or atomic) --
  const ConnectionSettings settings;
  const boost::asio::any_io_executor loop;
  int event_fd = -1;
  std::mutex mutex;
  std::vector<Command> commands;
  std::atomic<bool> is_connected{false};
  std::atomic<bool> has_connected{false};  // once true, connect() returns at once
  std::atomic<bool> detached{false};       // the loop is going away: post nothing
  std::atomic<bool> stopping{false};       // the process stops: reconnect attempts are short
  std::atomic<int> socket_fd{-1};
  std::atomic<std::uint64_t> current_epoch{0};
  std::atomic<std::uint64_t> stat_connects{0}, stat_published{0}, stat_confirmed{0},
      stat_deliveries{0};
  std::thread thread;

  std::function<void(Delivery&)>
      preprocessor;  // set before connecting, then read by the I/O thread

  // -- loop thread only --
  DeliverySink sink;
  std::vector<Command> loop_commands;
  bool flush_posted = false;

  // -- I/O thread only --
  State state = State::idle;
  amqp_connection_state_t conn = nullptr;
  bool ever_connected = false;
  std::uint64_t epoch = 0;
  std::chrono::milliseconds backoff{0};
  std::size_t replay_remaining = 0;  // replayed steps not answered yet after a reconnect
  bool replay_failed = false;        // the broker refused a replayed step: keep the backoff
  Clock::time_point connected_at{};
  Clock::time_point next_attempt{};
  Clock::time_point lost_at{};
  std::string last_failure;
  Clock::time_point next_maintenance{};
  bool blocked = false;
  std::array<bool, 4> channel_ready{};
  std::array<std::deque<Expectation>, 4> expectations;

  std::deque<StepJob> steps;
  std::optional<StepJob> step_in_flight;
  std::unique_ptr<EncodedStep> encoded_in_flight;
  std::vector<TopologyStep> recorded;  // every step that succeeded, in order
  std::map<std::string, std::uint32_t, std::less<>> consumer_of_tag;
  std::map<std::uint32_t, std::string> tag_of_consumer;
  std::vector<std::unique_ptr<CancelJob>> cancel_jobs;
  std::set<std::uint32_t> cancelled_consumers;  // never consume for these again

  std::deque<PendingPublish> pending;        // not sent yet
  ConfirmQueue<PendingPublish> unconfirmed;  // by publish sequence number
  std::uint64_t publish_seq = 0;
  Clock::time_point next_expiry = Clock::time_point::max();

  struct Assembling {
    Delivery delivery;
    std::size_t body_size = 0;
    bool have_header = false;
  };
  std::optional<Assembling> assembling;
  std::vector<Delivery> batch;
  std::vector<ReadyPublish> ready_publishes;
  AckTracker acks;  // deliveries handed to the loop, not settled at the broker yet

  bool exit_requested = false;
  Clock::time_point close_deadline{};
  std::function<void()> close_handler;

  // ---- posting results to the loop ----

  template <typename Handler, typename... Args>
  void complete(Handler handler, Args... args) {
    if (detached.load()) return;  // the handler is destroyed with its coroutine frame
    // The loop is the handler's executor (one thread runs it), so the posted function may
    // invoke the handler directly.
    boost::asio::post(loop, [handler = std::move(handler), ... args = std::move(args)]() mutable {
      std::move(handler)(std::move(args)...);
    });
  }

  // Publish outcomes are many (one per confirm): they go to the loop in batches, one post per
  // round of the frame loop.
  static void log_unconfirmed(const std::exception_ptr& error) {
    log().warning("unconfirmed publish [amqp]",
                  LogFields{LogField{"error", boost::json::string(describe_exception(error))}});
  }

  void complete_publish(PublishCompletion completion, std::exception_ptr error) {
    if (!completion.handler && !completion.callback) {
      if (error) log_unconfirmed(error);
      return;
    }
    ready_publishes.push_back(ReadyPublish{std::move(completion), error});
  }

  void flush_results() {
    flush_deliveries();
    if (ready_publishes.empty()) return;
    if (detached.load()) {
      // Nobody is left to tell: the failures go to the log, never nowhere.
      for (const auto& ready : ready_publishes) {
        if (ready.error) log_unconfirmed(ready.error);
      }
      ready_publishes.clear();
      return;
    }
    boost::asio::post(loop, [batch = std::move(ready_publishes)]() mutable {
      for (auto& ready : batch) {
        if (ready.completion.handler) {
          std::move (*ready.completion.handler)(ready.error);
        } else {
          ready.completion.callback(ready.error);
        }
      }
    });
    ready_publishes.clear();
  }

  // Commands from the loop are collected during one turn of the loop and handed over
  // together (one wake-up of the I/O thread for a whole batch of acks and publishes).
  void push_from_loop(Command command) {
    loop_commands.push_back(std::move(command));
    if (flush_posted) return;
    flush_posted = true;
    boost::asio::post(loop, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->hand_over();
    });
  }

  void hand_over() {
    flush_posted = false;
    if (loop_commands.empty()) return;
    bool wake;
    {
      std::lock_guard lock(mutex);
      wake = commands.empty();
      if (wake) {
        commands.swap(loop_commands);
      } else {
        for (auto& command : loop_commands) commands.push_back(std::move(command));
      }
    }
    loop_commands.clear();
    if (wake) {
      const std::uint64_t one = 1;
      [[maybe_unused]] auto written = ::write(event_fd, &one, sizeof(one));
    }
  }

  void push(Command command) {
    bool wake;
    {
      std::lock_guard lock(mutex);
      wake = commands.empty();
      commands.push_back(std::move(command));
    }
    if (wake) {
      const std::uint64_t one = 1;
      [[maybe_unused]] auto written = ::write(event_fd, &one, sizeof(one));
    }
  }

  // ---- main loop ----

  void run() {
    while (!(state == State::closed && exit_requested)) {
      take_commands();
      expire_publishes();
      flush_results();
      switch (state) {
        case State::idle:
          wait_events(-1);
          break;
        case State::reconnecting:
          reconnect_step();
          break;
        case State::connected:
        case State::closing:
          service_connection();
          break;
        case State::closed:
          if (!exit_requested) wait_events(-1);  // commands are refused from now on
          break;
      }
      flush_results();
    }
  }

  void take_commands() {
    std::vector<Command> batch_of_commands;
    {
      std::lock_guard lock(mutex);
      batch_of_commands.swap(commands);
    }
    for (auto& command : batch_of_commands) {
      std::visit([this](auto& c) { handle(c); }, command);
    }
    send_acks();
  }

  // Waits for a command (and, when connected, for socket input) until `timeout_ms`.
  // Returns true when the socket is readable.
  bool wait_events(int timeout_ms) {
    std::array<pollfd, 2> fds{};
    fds[0] = {event_fd, POLLIN, 0};
    nfds_t count = 1;
    if (conn) {
      fds[1] = {amqp_get_sockfd(conn), POLLIN, 0};
      count = 2;
    }
    const int ready = ::poll(fds.data(), count, timeout_ms);
    if (ready < 0) return false;  // EINTR: loop again
    if (fds[0].revents & POLLIN) {
      std::uint64_t value;
      [[maybe_unused]] auto read = ::read(event_fd, &value, sizeof(value));
    }
    return count == 2 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP));
  }

  int milliseconds_until(Clock::time_point when) const {
    if (when == Clock::time_point::max()) return -1;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(when - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left + 1, 0, 3600 * 1000));
  }

  static int min_timeout(int a, int b) {
    if (a < 0) return b;
    if (b < 0) return a;
    return std::min(a, b);
  }

  // ---- connecting ----

  void handle(ConnectCommand& command) {
    if (state == State::closed) {
      complete(std::move(command.handler),
               std::make_exception_ptr(AmqpConnectionException("the AMQP connection is closed")));
      return;
    }
    if (ever_connected) {  // connected, or reconnecting on its own
      complete(std::move(command.handler), std::exception_ptr{});
      return;
    }
    std::string reason;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(command.deadline - Clock::now());
    const bool connected_now =
        left.count() > 0 && open_connection(reason, std::min(settings.connect_timeout, left));
    if (left.count() <= 0) reason = "timed out";
    if (connected_now) {
      ever_connected = true;
      has_connected.store(true);
      log().debug("connected [amqp] to " + settings.address());
      complete(std::move(command.handler), std::exception_ptr{});
    } else {
      const std::string message =
          "Unable to connect [amqp] to " + settings.address() + " (" + reason + ")";
      log().warning(message);
      complete(std::move(command.handler),
               std::make_exception_ptr(AmqpConnectionException(message)));
    }
  }

  bool open_connection(std::string& reason, std::chrono::milliseconds connect_timeout) {
    amqp_connection_state_t c = amqp_new_connection();
    if (!c) {
      reason = "out of memory";
      return false;
    }
    const auto fail = [&](std::string why) {
      amqp_destroy_connection(c);
      reason = std::move(why);
      return false;
    };
    amqp_socket_t* socket = settings.ssl ? amqp_ssl_socket_new(c) : amqp_tcp_socket_new(c);
    if (!socket) return fail("cannot create a socket");
    if (settings.ssl) {
      auto* context = static_cast<SSL_CTX*>(amqp_ssl_socket_get_context(socket));
      if (context) SSL_CTX_set_default_verify_paths(context);
    }
    connect_timeout = std::max(connect_timeout, std::chrono::milliseconds(1));
    timeval timeout = to_timeval(connect_timeout);
    if (const int status =
            amqp_socket_open_noblock(socket, settings.host.c_str(), settings.port, &timeout);
        status != AMQP_STATUS_OK) {
      if (status == AMQP_STATUS_SOCKET_ERROR) {
        return fail(probe_connect_error(settings.host, settings.port, connect_timeout));
      }
      return fail(status == AMQP_STATUS_TIMEOUT ? "timed out" : describe_status(status));
    }
    amqp_set_handshake_timeout(c, &timeout);
    amqp_set_rpc_timeout(c, &timeout);

    // Capabilities beyond the library's defaults: blocked notifications, broker-side
    // consumer cancels (queue deleted), confirms.
    std::array<amqp_table_entry_t, 4> capabilities{};
    const auto bool_entry = [](const char* key) {
      amqp_table_entry_t entry{};
      entry.key = amqp_cstring_bytes(key);
      entry.value.kind = AMQP_FIELD_KIND_BOOLEAN;
      entry.value.value.boolean = 1;
      return entry;
    };
    capabilities[0] = bool_entry("connection.blocked");
    capabilities[1] = bool_entry("consumer_cancel_notify");
    capabilities[2] = bool_entry("publisher_confirms");
    capabilities[3] = bool_entry("basic.nack");
    std::array<amqp_table_entry_t, 2> properties{};
    properties[0].key = amqp_cstring_bytes("connection_name");
    properties[0].value.kind = AMQP_FIELD_KIND_UTF8;
    properties[0].value.value.bytes = amqp_cstring_bytes(settings.connection_name.c_str());
    properties[1].key = amqp_cstring_bytes("capabilities");
    properties[1].value.kind = AMQP_FIELD_KIND_TABLE;
    properties[1].value.value.table.num_entries = static_cast<int>(capabilities.size());
    properties[1].value.value.table.entries = capabilities.data();
    amqp_table_t client_properties{static_cast<int>(properties.size()), properties.data()};

    const amqp_rpc_reply_t login = amqp_login_with_properties(
        c, settings.virtualhost.c_str(), 0, 131072, settings.heartbeat, &client_properties,
        AMQP_SASL_METHOD_PLAIN, settings.login.c_str(), settings.password.c_str());
    if (login.reply_type != AMQP_RESPONSE_NORMAL) return fail(describe_reply(login));

    for (amqp_channel_t channel : {consumer_channel, management_channel, publish_channel}) {
      amqp_channel_open(c, channel);
      if (const auto reply = amqp_get_rpc_reply(c); reply.reply_type != AMQP_RESPONSE_NORMAL) {
        return fail("cannot open channel " + std::to_string(channel) + ": " +
                    describe_reply(reply));
      }
    }
    amqp_confirm_select(c, publish_channel);
    if (const auto reply = amqp_get_rpc_reply(c); reply.reply_type != AMQP_RESPONSE_NORMAL) {
      return fail("cannot enable publisher confirms: " + describe_reply(reply));
    }

    // A dead peer must not block a write forever: unacknowledged data fails the socket
    // after twice the heartbeat (or 30 s without heartbeats).
    const int fd = amqp_get_sockfd(c);
    const unsigned int user_timeout =
        static_cast<unsigned int>(settings.heartbeat > 0 ? settings.heartbeat * 2000 : 30000);
    ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));

    conn = c;
    socket_fd.store(fd);
    channel_ready = {false, true, true, true};
    for (auto& queue : expectations) queue.clear();
    publish_seq = 0;
    blocked = false;
    ++epoch;
    current_epoch.store(epoch);
    state = State::connected;
    is_connected.store(true);
    ++stat_connects;
    connected_at = Clock::now();
    next_maintenance = Clock::now() + maintenance_interval();
    return true;
  }

  std::chrono::milliseconds maintenance_interval() const {
    const int heartbeat = amqp_get_heartbeat(conn);
    if (heartbeat <= 0) return std::chrono::milliseconds(30000);
    return std::chrono::milliseconds(std::max(250, heartbeat * 1000 / 2));
  }

  void reconnect_step() {
    const auto now = Clock::now();
    if (now < next_attempt) {
      int timeout = milliseconds_until(next_attempt);
      timeout = min_timeout(timeout, milliseconds_until(next_expiry));
      wait_events(timeout);
      return;
    }
    std::string reason;
    // While the process stops, an attempt must not hold the I/O thread (and the close) up.
    const auto timeout = stopping.load() ? std::min(settings.connect_timeout, stop_connect_timeout)
                                         : settings.connect_timeout;
    if (open_connection(reason, timeout)) {
      const double outage = std::chrono::duration<double>(Clock::now() - lost_at).count();
      log().info("reconnected [amqp] to " + settings.address(),
                 LogFields{LogField{"outage_seconds", outage}});
      // The backoff is reset once the replay went through (replay_finished), not here: a
      // replay the broker refuses would otherwise reconnect in a tight loop.
      replay_topology();
      if (replay_remaining == 0) replay_finished();
      return;
    }
    if (reason != last_failure) {
      log().warning("Unable to connect [amqp] to " + settings.address() + " (" + reason +
                    ") - retrying");
      last_failure = reason;
    }
    backoff = std::clamp(backoff * 2, settings.reconnect_min_delay, settings.reconnect_max_delay);
    next_attempt = Clock::now() + backoff;
  }

  void replay_topology() {
    std::deque<StepJob> replay;
    for (const auto& step : recorded) replay.push_back(StepJob{step, std::nullopt});
    replay_remaining = replay.size();
    replay_failed = false;
    for (auto& job : steps) replay.push_back(std::move(job));
    steps = std::move(replay);
  }

  // The connection is gone: keep what must survive (steps, unsent and unconfirmed
  // publishes), drop what belonged to it, and schedule a reconnect.
  void connection_lost(const std::string& reason) {
    if (state == State::closing) {
      log().warning("lost connection [amqp] to " + settings.address() + " while closing (" +
                    reason + ")");
      destroy_connection();
      finish_close();
      return;
    }
    log().warning("lost connection [amqp] to " + settings.address() + " (" + reason +
                  ") - reconnecting");
    destroy_connection();
    lost_at = Clock::now();
    last_failure.clear();

    std::deque<StepJob> kept;
    if (step_in_flight && step_in_flight->handler) kept.push_back(std::move(*step_in_flight));
    step_in_flight.reset();
    encoded_in_flight.reset();
    for (auto& job : steps) {
      if (job.handler) kept.push_back(std::move(job));
    }
    steps = std::move(kept);

    auto resend = unconfirmed.take_all();
    for (auto it = resend.rbegin(); it != resend.rend(); ++it) {
      it->returned.reset();  // sent again: the broker routes it anew
      pending.push_front(std::move(*it));
    }

    for (auto& job : cancel_jobs) complete(std::move(job->handler), std::exception_ptr{});
    cancel_jobs.clear();
    consumer_of_tag.clear();
    acks.clear();
    tag_of_consumer.clear();
    assembling.reset();
    flush_deliveries();

    state = State::reconnecting;
    // Lost again before the replay went through, or soon after connecting: keep growing
    // the backoff (a replay the broker refuses must not become a reconnect storm).
    const bool unstable = replay_remaining > 0 || replay_failed ||
                          Clock::now() - connected_at < settings.reconnect_max_delay;
    backoff = unstable ? std::clamp(backoff * 2, settings.reconnect_min_delay,
                                    settings.reconnect_max_delay)
                       : settings.reconnect_min_delay;
    replay_remaining = 0;
    next_attempt = Clock::now() + backoff;
  }

  void destroy_connection() {
    if (conn) {
      socket_fd.store(-1);
      amqp_destroy_connection(conn);
      conn = nullptr;
    }
    is_connected.store(false);
    for (auto& queue : expectations) queue.clear();
    channel_ready = {};
  }

  // ---- the connected frame loop ----

  void service_connection() {
    send_pending_publishes();
    pump_steps();
    if (!conn) return;
    if (state == State::closing &&
        ((pending.empty() && unconfirmed.empty()) || Clock::now() >= close_deadline)) {
      finish_close();
      return;
    }

    bool readable = amqp_frames_enqueued(conn) || amqp_data_in_buffer(conn);
    if (!readable) {
      int timeout = milliseconds_until(next_maintenance);
      timeout = min_timeout(timeout, milliseconds_until(next_expiry));
      if (state == State::closing)
        timeout = min_timeout(timeout, milliseconds_until(close_deadline));
      if (!pending.empty() && channel_ready[publish_channel] && !blocked) timeout = 0;
      readable = wait_events(timeout);
    }
    // Reading inside rabbitmq-c also sends due heartbeats and detects a silent peer, so read
    // at least every heartbeat/2 even when nothing arrived.
    if (readable || Clock::now() >= next_maintenance) {
      next_maintenance = Clock::now() + maintenance_interval();
      read_frames();
    }
  }

  void read_frames() {
    for (int n = 0; n < frames_per_round && conn; ++n) {
      amqp_frame_t frame;
      timeval zero{0, 0};
      const int status = amqp_simple_wait_frame_noblock(conn, &frame, &zero);
      if (status == AMQP_STATUS_TIMEOUT) break;
      if (status != AMQP_STATUS_OK) {
        connection_lost(describe_status(status));
        return;
      }
      handle_frame(frame);
    }
    flush_deliveries();
    if (conn) amqp_maybe_release_buffers(conn);
  }

  void handle_frame(const amqp_frame_t& frame) {
    switch (frame.frame_type) {
      case AMQP_FRAME_METHOD:
        handle_method(frame.channel, frame.payload.method);
        break;
      case AMQP_FRAME_HEADER:
        if (frame.channel == consumer_channel && assembling && !assembling->have_header) {
          const auto* properties =
              static_cast<const amqp_basic_properties_t*>(frame.payload.properties.decoded);
          assembling->delivery.properties = decode_properties(*properties);
          if (properties->_flags & AMQP_BASIC_HEADERS_FLAG) {
            assembling->delivery.raw_headers =
                std::make_shared<ReceivedHeaders>(properties->headers);
          }
          assembling->body_size = static_cast<std::size_t>(frame.payload.properties.body_size);
          assembling->have_header = true;
          assembling->delivery.body.reserve(assembling->body_size);
          if (assembling->body_size == 0) finish_delivery();
        }
        break;
      case AMQP_FRAME_BODY:
        if (frame.channel == consumer_channel && assembling && assembling->have_header) {
          const auto& fragment = frame.payload.body_fragment;
          assembling->delivery.body.append(static_cast<const char*>(fragment.bytes), fragment.len);
          if (assembling->delivery.body.size() >= assembling->body_size) finish_delivery();
        }
        break;
      default:
        break;
    }
  }

  void handle_method(amqp_channel_t channel, const amqp_method_t& method) {
    if (channel == 0) {
      handle_connection_method(method);
      return;
    }
    switch (method.id) {
      case AMQP_CHANNEL_CLOSE_METHOD: {
        const auto* close = static_cast<const amqp_channel_close_t*>(method.decoded);
        BrokerError error{close->reply_code, to_string(close->reply_text)};
        amqp_channel_close_ok_t ok{};
        if (amqp_send_method(conn, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok) != AMQP_STATUS_OK) {
          connection_lost("cannot confirm a channel close");
          return;
        }
        channel_closed(channel, error);
        return;
      }
      case AMQP_BASIC_DELIVER_METHOD:
        start_delivery(channel, method);
        return;
      case AMQP_BASIC_ACK_METHOD: {
        const auto* ack = static_cast<const amqp_basic_ack_t*>(method.decoded);
        if (channel == publish_channel) confirm(ack->delivery_tag, ack->multiple != 0, true);
        return;
      }
      case AMQP_BASIC_NACK_METHOD: {
        const auto* nack = static_cast<const amqp_basic_nack_t*>(method.decoded);
        if (channel == publish_channel) confirm(nack->delivery_tag, nack->multiple != 0, false);
        return;
      }
      case AMQP_BASIC_CANCEL_METHOD: {
        const auto* cancel = static_cast<const amqp_basic_cancel_t*>(method.decoded);
        broker_cancelled(to_string(cancel->consumer_tag));
        return;
      }
      case AMQP_BASIC_RETURN_METHOD: {
        // Sent before the confirm of the same message; its header and body frames that
        // follow on the publish channel are skipped (handle_frame keeps only the consumers').
        const auto* returned = static_cast<const amqp_basic_return_t*>(method.decoded);
        if (channel == publish_channel) {
          mark_returned(to_string(returned->exchange), to_string(returned->routing_key),
                        returned->reply_code, to_string(returned->reply_text));
        }
        return;
      }
      default:
        break;
    }
    auto& queue = expectations[channel < expectations.size() ? channel : 0];
    if (!queue.empty() && queue.front().reply_id == method.id) {
      auto expectation = std::move(queue.front());
      queue.pop_front();
      expectation.done(&method, nullptr);
      return;
    }
    log().debug("unexpected method [amqp] on channel " + std::to_string(channel) + ": " +
                amqp_method_name(method.id));
  }

  void handle_connection_method(const amqp_method_t& method) {
    switch (method.id) {
      case AMQP_CONNECTION_CLOSE_METHOD: {
        const auto* close = static_cast<const amqp_connection_close_t*>(method.decoded);
        const std::string text = to_string(close->reply_text);
        amqp_connection_close_ok_t ok{};
        amqp_send_method(conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        connection_lost("closed by the broker: " + text);
        return;
      }
      case AMQP_CONNECTION_BLOCKED_METHOD: {
        const auto* blocked_method = static_cast<const amqp_connection_blocked_t*>(method.decoded);
        blocked = true;
        log().warning("publishing blocked by the broker [amqp] (" +
                      to_string(blocked_method->reason) + ")");
        return;
      }
      case AMQP_CONNECTION_UNBLOCKED_METHOD:
        blocked = false;
        log().info("publishing unblocked by the broker [amqp]");
        return;
      default:
        log().debug(std::string("unexpected connection method [amqp]: ") +
                    amqp_method_name(method.id));
    }
  }

  void channel_closed(amqp_channel_t channel, const BrokerError& error) {
    channel_ready[channel] = false;
    auto failed = std::move(expectations[channel]);
    expectations[channel].clear();
    for (auto& expectation : failed) expectation.done(nullptr, &error);

    if (channel == consumer_channel) {
      // Deliveries in flight belong to this channel: start over on a new connection.
      connection_lost("consumer channel closed by the broker: " + error.text);
      return;
    }
    if (channel == publish_channel) fail_unconfirmed_after_channel_error(error);
    reopen_channel(channel);
  }

  // The broker discards everything published after the failing message; the failing one is
  // the publish to the exchange the error names (404), or unknown (then fail them all).
  void fail_unconfirmed_after_channel_error(const BrokerError& error) {
    const auto missing_exchange =
        error.code == AMQP_NOT_FOUND ? quoted_name(error.text) : std::nullopt;
    std::deque<PendingPublish> retry;
    for (auto& publish : unconfirmed.take_all()) {
      if (missing_exchange && publish.message.exchange != *missing_exchange) {
        retry.push_back(std::move(publish));
        continue;
      }
      const std::string message = "publish to exchange \"" + publish.message.exchange +
                                  "\" with routing key \"" + publish.message.routing_key +
                                  "\" failed: " + std::to_string(error.code) + " " + error.text;
      complete_publish(std::move(publish.completion),
                       std::make_exception_ptr(AmqpChannelClosed(error.code, error.text, message)));
    }
    while (!retry.empty()) {
      pending.push_front(std::move(retry.back()));
      retry.pop_back();
    }
    // Queued publishes to the missing exchange would close the channel again.
    if (missing_exchange) {
      for (auto it = pending.begin(); it != pending.end();) {
        if (it->message.exchange == *missing_exchange) {
          const std::string message = "publish to exchange \"" + it->message.exchange +
                                      "\" failed: " + std::to_string(error.code) + " " + error.text;
          complete_publish(std::move(it->completion), std::make_exception_ptr(AmqpChannelClosed(
                                                          error.code, error.text, message)));
          it = pending.erase(it);
        } else {
          ++it;
        }
      }
    }
  }

  void reopen_channel(amqp_channel_t channel) {
    amqp_channel_open_t open{};
    open.out_of_band = amqp_empty_bytes;
    if (amqp_send_method(conn, channel, AMQP_CHANNEL_OPEN_METHOD, &open) != AMQP_STATUS_OK) {
      connection_lost("cannot reopen channel " + std::to_string(channel));
      return;
    }
    expect(channel, AMQP_CHANNEL_OPEN_OK_METHOD,
           [this, channel](const amqp_method_t* reply, const BrokerError*) {
             if (!reply) return;
             if (channel != publish_channel) {
               channel_ready[channel] = true;
               return;
             }
             amqp_confirm_select_t select{};
             select.nowait = 0;
             if (amqp_send_method(conn, channel, AMQP_CONFIRM_SELECT_METHOD, &select) !=
                 AMQP_STATUS_OK) {
               connection_lost("cannot enable publisher confirms");
               return;
             }
             expect(channel, AMQP_CONFIRM_SELECT_OK_METHOD,
                    [this, channel](const amqp_method_t* ok, const BrokerError*) {
                      if (!ok) return;
                      publish_seq = 0;
                      channel_ready[channel] = true;
                    });
           });
  }

  void expect(amqp_channel_t channel, amqp_method_number_t reply_id,
              std::function<void(const amqp_method_t*, const BrokerError*)> done) {
    expectations[channel].push_back(Expectation{reply_id, std::move(done)});
  }

  // ---- deliveries ----

  void start_delivery(amqp_channel_t channel, const amqp_method_t& method) {
    const auto* deliver = static_cast<const amqp_basic_deliver_t*>(method.decoded);
    Assembling next;
    next.delivery.epoch = epoch;
    next.delivery.delivery_tag = deliver->delivery_tag;
    next.delivery.redelivered = deliver->redelivered != 0;
    next.delivery.exchange = to_string(deliver->exchange);
    next.delivery.routing_key = to_string(deliver->routing_key);
    const std::string_view tag(static_cast<const char*>(deliver->consumer_tag.bytes),
                               deliver->consumer_tag.len);
    const auto consumer = consumer_of_tag.find(tag);
    next.delivery.consumer_id = consumer == consumer_of_tag.end() ? 0 : consumer->second;
    if (channel != consumer_channel) return;
    assembling = std::move(next);
  }

  void finish_delivery() {
    Delivery delivery = std::move(assembling->delivery);
    assembling.reset();
    ++stat_deliveries;
    if (delivery.consumer_id == 0) {
      // Its consumer was cancelled: hand the message back to the queue at once.
      if (const int status = amqp_basic_nack(conn, consumer_channel, delivery.delivery_tag, 0, 1);
          status != AMQP_STATUS_OK) {
        // The message is not lost: the broker requeues it with the connection.
        log().warning("cannot return a message of a cancelled consumer [amqp] (basic.nack: " +
                      describe_status(status) + ")");
        connection_lost(describe_status(status));
      }
      return;
    }
    acks.delivered(delivery.delivery_tag);
    if (preprocessor) preprocessor(delivery);
    batch.push_back(std::move(delivery));
  }

  void flush_deliveries() {
    if (batch.empty() || detached.load()) {
      batch.clear();
      return;
    }
    boost::asio::post(loop, [weak = weak_from_this(), deliveries = std::move(batch)]() mutable {
      if (auto self = weak.lock(); self && self->sink) self->sink(deliveries);
    });
    batch = {};
  }

  // Acks are collected while a batch of commands is taken and sent by send_acks(): the
  // longest run of acked tags from the oldest unsettled delivery goes as one
  // basic.ack(multiple), the rest one by one.
  void handle(AckCommand& command) {
    if (command.epoch != epoch || !conn) return;  // the broker requeued it with its connection
    if (command.ack) {
      acks.acked(command.delivery_tag);
      return;
    }
    const int status =
        amqp_basic_nack(conn, consumer_channel, command.delivery_tag, 0, command.requeue ? 1 : 0);
    if (status != AMQP_STATUS_OK) {
      log().warning("basic.nack [amqp] failed: " + describe_status(status) +
                    " - the broker requeues the message with the connection");
      connection_lost(describe_status(status));
      return;
    }
    acks.settled(command.delivery_tag);
  }

  void send_acks() {
    if (!conn) return;
    const AckTracker::Plan plan = acks.take();
    if (plan.multiple_through) {
      if (const int status = amqp_basic_ack(conn, consumer_channel, *plan.multiple_through, 1);
          status != AMQP_STATUS_OK) {
        connection_lost(describe_status(status));
        return;
      }
    }
    for (const std::uint64_t tag : plan.singles) {
      if (const int status = amqp_basic_ack(conn, consumer_channel, tag, 0);
          status != AMQP_STATUS_OK) {
        connection_lost(describe_status(status));
        return;
      }
    }
  }

  void broker_cancelled(const std::string& tag) {
    const auto found = consumer_of_tag.find(tag);
    if (found == consumer_of_tag.end()) return;
    const std::uint32_t consumer_id = found->second;
    consumer_of_tag.erase(found);
    tag_of_consumer.erase(consumer_id);
    // The queue was deleted (or the node holding it went away): declare, bind and consume
    // it again from what we recorded.
    std::string queue;
    for (const auto& step : recorded) {
      if (const auto* consume = std::get_if<ConsumeStep>(&step);
          consume && consume->consumer_id == consumer_id) {
        queue = consume->queue;
      }
    }
    log().warning("consumer cancelled by the broker [amqp] for queue \"" + queue +
                  "\" - consuming again");
    std::deque<StepJob> again;
    for (const auto& step : recorded) {
      const bool same_queue = std::visit(
          [&](const auto& s) {
            using S = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<S, QueueDeclareStep> || std::is_same_v<S, QueueBindStep>) {
              return s.queue == queue;
            } else if constexpr (std::is_same_v<S, ConsumeStep>) {
              return s.consumer_id == consumer_id;
            } else {
              return false;
            }
          },
          step);
      if (same_queue) again.push_back(StepJob{step, std::nullopt});
    }
    for (auto& job : steps) again.push_back(std::move(job));
    steps = std::move(again);
  }

  void handle(CancelCommand& command) {
    std::set<std::uint32_t> ids(command.consumer_ids.begin(), command.consumer_ids.end());
    const auto cancelled_consume = [&](const TopologyStep& step) {
      const auto* consume = std::get_if<ConsumeStep>(&step);
      return consume && ids.count(consume->consumer_id) > 0;
    };
    std::erase_if(recorded, cancelled_consume);
    // Consume steps not sent yet (a replay after a reconnect, or a start still running)
    // never go out; one in flight is cancelled when its consume-ok arrives.
    for (auto it = steps.begin(); it != steps.end();) {
      if (!cancelled_consume(it->step)) {
        ++it;
        continue;
      }
      if (it->handler) {
        complete(std::move(*it->handler),
                 std::make_exception_ptr(
                     AmqpConnectionException("the consumer was cancelled before it started")),
                 StepResult{});
      }
      it = steps.erase(it);
    }
    cancelled_consumers.insert(ids.begin(), ids.end());
    auto job = std::make_unique<CancelJob>(CancelJob{{}, std::move(command.handler)});
    for (auto id : ids) {
      const auto tag = tag_of_consumer.find(id);
      if (tag == tag_of_consumer.end() || !conn) continue;
      amqp_basic_cancel_t cancel{};
      cancel.consumer_tag = bytes_of(tag->second);
      cancel.nowait = 0;
      if (amqp_send_method(conn, consumer_channel, AMQP_BASIC_CANCEL_METHOD, &cancel) !=
          AMQP_STATUS_OK) {
        connection_lost("cannot cancel a consumer");
        break;
      }
      job->remaining_tags.insert(tag->second);
      CancelJob* raw = job.get();
      const std::string consumer_tag = tag->second;
      expect(consumer_channel, AMQP_BASIC_CANCEL_OK_METHOD,
             [this, raw, consumer_tag](const amqp_method_t*, const BrokerError*) {
               consumer_of_tag.erase(consumer_tag);
               raw->remaining_tags.erase(consumer_tag);
               if (raw->remaining_tags.empty()) finish_cancel_job(raw);
             });
    }
    for (auto id : ids) tag_of_consumer.erase(id);
    if (job->remaining_tags.empty()) {
      complete(std::move(job->handler), std::exception_ptr{});
      return;
    }
    cancel_jobs.push_back(std::move(job));
  }

  void cancel_consumer_tag(const std::string& consumer_tag) {
    amqp_basic_cancel_t cancel{};
    cancel.consumer_tag = bytes_of(consumer_tag);
    cancel.nowait = 0;
    if (amqp_send_method(conn, consumer_channel, AMQP_BASIC_CANCEL_METHOD, &cancel) !=
        AMQP_STATUS_OK) {
      connection_lost("cannot cancel a consumer");
      return;
    }
    expect(consumer_channel, AMQP_BASIC_CANCEL_OK_METHOD,
           [](const amqp_method_t*, const BrokerError*) {});
  }

  void finish_cancel_job(CancelJob* raw) {
    const auto it = std::find_if(cancel_jobs.begin(), cancel_jobs.end(),
                                 [raw](const auto& j) { return j.get() == raw; });
    if (it == cancel_jobs.end()) return;
    complete(std::move((*it)->handler), std::exception_ptr{});
    cancel_jobs.erase(it);
  }

  // ---- topology steps, one at a time ----

  void handle(ExecuteCommand& command) {
    if (state == State::closed || state == State::closing || !ever_connected) {
      complete(std::move(command.handler),
               std::make_exception_ptr(AmqpConnectionException("the AMQP connection is not open")),
               StepResult{});
      return;
    }
    steps.push_back(StepJob{std::move(command.step), std::move(command.handler)});
  }

  void pump_steps() {
    if (!conn || state != State::connected || step_in_flight || steps.empty()) return;
    auto encoded = std::make_unique<EncodedStep>(steps.front().step);
    if (!channel_ready[encoded->channel()]) return;  // reopening after an error
    step_in_flight = std::move(steps.front());
    steps.pop_front();
    const int status =
        amqp_send_method(conn, encoded->channel(), encoded->method_id(), encoded->method());
    const amqp_channel_t channel = encoded->channel();
    const amqp_method_number_t reply_id = encoded->reply_id();
    encoded_in_flight = std::move(encoded);
    if (status != AMQP_STATUS_OK) {
      connection_lost(describe_status(status));
      return;
    }
    expect(channel, reply_id, [this](const amqp_method_t* reply, const BrokerError* error) {
      step_finished(reply, error);
    });
  }

  void replay_finished() {
    backoff = std::chrono::milliseconds(0);
    log().debug("re-declared after reconnecting [amqp] to " + settings.address());
  }

  void step_finished(const amqp_method_t* reply, const BrokerError* error) {
    if (!step_in_flight) return;
    StepJob job = std::move(*step_in_flight);
    step_in_flight.reset();
    encoded_in_flight.reset();
    const bool replay = !job.handler;
    if (replay && replay_remaining > 0) {
      if (error) replay_failed = true;
      if (--replay_remaining == 0 && !replay_failed) replay_finished();
    }
    if (error) {
      if (replay) {
        log().error("re-declaring after a reconnect failed [amqp]: " + describe(job.step) + " (" +
                    std::to_string(error->code) + " " + error->text + ")");
      } else {
        complete(std::move(*job.handler), step_error(job.step, *error), StepResult{});
      }
      return;
    }
    StepResult result = decode_step_reply(*reply);
    if (const auto* declare = std::get_if<QueueDeclareStep>(&job.step); declare && !replay) {
      try {
        check_declare_ok(*declare, result);
      } catch (...) {
        complete(std::move(*job.handler), std::current_exception(), StepResult{});
        return;
      }
    }
    if (const auto* consume = std::get_if<ConsumeStep>(&job.step)) {
      if (cancelled_consumers.count(consume->consumer_id)) {
        // Cancelled while its basic.consume was on the wire: cancel it at the broker at once
        // (deliveries before the cancel-ok have no consumer and go back to the queue).
        cancel_consumer_tag(result.consumer_tag);
        if (!replay) {
          complete(std::move(*job.handler),
                   std::make_exception_ptr(
                       AmqpConnectionException("the consumer was cancelled before it started")),
                   StepResult{});
        }
        return;
      }
      consumer_of_tag[result.consumer_tag] = consume->consumer_id;
      tag_of_consumer[consume->consumer_id] = result.consumer_tag;
    }
    if (!replay) {
      const auto* declare = std::get_if<QueueDeclareStep>(&job.step);
      if (!declare || !declare->passive) recorded.push_back(job.step);  // a check is not replayed
      complete(std::move(*job.handler), std::exception_ptr{}, std::move(result));
    }
  }

  // ---- publishing with confirms ----

  void handle(PublishCommand& command) {
    if (state == State::closed || state == State::closing || !ever_connected) {
      complete_publish(std::move(command.publish.completion),
                       std::make_exception_ptr(AmqpConnectionException(
                           state == State::idle ? "not connected [amqp] to " + settings.address()
                                                : "the AMQP connection is closed")));
      return;
    }
    next_expiry = std::min(next_expiry, command.publish.deadline);
    pending.push_back(std::move(command.publish));
  }

  void send_pending_publishes() {
    if (!conn || !channel_ready[publish_channel] || blocked) return;
    for (int n = 0; n < publishes_per_round && !pending.empty(); ++n) {
      PendingPublish& next = pending.front();
      const auto& message = next.message;
      int status;
      const amqp_boolean_t mandatory = message.mandatory ? 1 : 0;
      if (message.properties.empty() && !message.original_headers) {
        status = amqp_basic_publish(conn, publish_channel, bytes_of(message.exchange),
                                    bytes_of(message.routing_key), mandatory, 0, nullptr,
                                    bytes_of(message.body));
      } else {
        EncodedProperties properties(message.properties, message.original_headers);
        status = amqp_basic_publish(conn, publish_channel, bytes_of(message.exchange),
                                    bytes_of(message.routing_key), mandatory, 0,
                                    &properties.properties(), bytes_of(message.body));
      }
      if (status != AMQP_STATUS_OK) {
        connection_lost(describe_status(status));
        return;
      }
      ++stat_published;
      unconfirmed.sent(++publish_seq, std::move(next));
      pending.pop_front();
    }
  }

  // The oldest unconfirmed mandatory publish with this exchange and routing key is the one
  // returned (returns and confirms come in publish order).
  void mark_returned(const std::string& exchange, const std::string& routing_key, int code,
                     const std::string& text) {
    bool found = false;
    unconfirmed.remove_if([&](PendingPublish& publish) {
      if (!found && !publish.returned && publish.message.mandatory &&
          publish.message.exchange == exchange && publish.message.routing_key == routing_key) {
        publish.returned = std::to_string(code) + " " + text;
        found = true;
      }
      return false;
    });
    if (!found)
      log().warning("basic.return [amqp] for a message not waiting for its confirm: exchange \"" +
                    exchange + "\", routing key \"" + routing_key + "\" (" + std::to_string(code) +
                    " " + text + ")");
  }

  void confirm(std::uint64_t tag, bool multiple, bool acked) {
    const auto settle = [&](PendingPublish& publish) {
      if (acked && publish.returned) {
        const std::string message = "the broker returned the message published to exchange \"" +
                                    publish.message.exchange + "\" with routing key \"" +
                                    publish.message.routing_key + "\": no queue took it (" +
                                    *publish.returned + ")";
        complete_publish(std::move(publish.completion),
                         std::make_exception_ptr(AmqpUnroutable(message)));
        return;
      }
      if (acked) {
        ++stat_confirmed;
        complete_publish(std::move(publish.completion), std::exception_ptr{});
        return;
      }
      const std::string message =
          "the broker rejected (nack) the message published to exchange \"" +
          publish.message.exchange + "\" with routing key \"" + publish.message.routing_key + "\"";
      complete_publish(std::move(publish.completion),
                       std::make_exception_ptr(AmqpException(message)));
    };
    unconfirmed.confirm(tag, multiple, settle);
  }

  void expire_publishes() {
    const auto now = Clock::now();
    if (now < next_expiry) return;
    next_expiry = Clock::time_point::max();
    const auto fail = [&](PendingPublish& publish, const char* what) {
      const std::string message = std::string(what) + " [amqp] to " + settings.address() +
                                  ": the message to exchange \"" + publish.message.exchange +
                                  "\" with routing key \"" + publish.message.routing_key +
                                  "\" was not confirmed in time";
      complete_publish(std::move(publish.completion),
                       std::make_exception_ptr(AmqpConnectionException(message)));
    };
    const char* state_text =
        state == State::connected ? "no confirm from the broker" : "not connected";
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->deadline <= now) {
        fail(*it, state_text);
        it = pending.erase(it);
      } else {
        next_expiry = std::min(next_expiry, it->deadline);
        ++it;
      }
    }
    unconfirmed.remove_if([&](PendingPublish& publish) {
      if (publish.deadline <= now) {
        fail(publish, "no confirm from the broker");
        return true;
      }
      next_expiry = std::min(next_expiry, publish.deadline);
      return false;
    });
  }

  // ---- closing ----

  void handle(CloseCommand& command) {
    exit_requested = exit_requested || command.exit_thread;
    if (state == State::closed) {
      if (command.closed) post_closed(std::move(command.closed));
      return;
    }
    if (close_handler && command.closed) {
      // A second close (the destructor's, or another caller's): both are told.
      close_handler = [first = std::move(close_handler), second = std::move(command.closed)] {
        first();
        second();
      };
    } else if (command.closed) {
      close_handler = std::move(command.closed);
    }
    close_deadline =
        state == State::closing ? std::min(close_deadline, command.deadline) : command.deadline;
    if (state == State::connected) {
      state = State::closing;
      return;
    }
    destroy_connection();
    finish_close();
  }

  void finish_close() {
    const auto closed_error = [&] {
      return std::make_exception_ptr(
          AmqpConnectionException("the AMQP connection to " + settings.address() +
                                  " closed before the message was confirmed"));
    };
    for (auto& publish : unconfirmed.take_all())
      complete_publish(std::move(publish.completion), closed_error());
    for (auto& publish : pending) complete_publish(std::move(publish.completion), closed_error());
    pending.clear();
    const auto not_open =
        std::make_exception_ptr(AmqpConnectionException("the AMQP connection is closed"));
    if (step_in_flight && step_in_flight->handler)
      complete(std::move(*step_in_flight->handler), not_open, StepResult{});
    step_in_flight.reset();
    for (auto& job : steps) {
      if (job.handler) complete(std::move(*job.handler), not_open, StepResult{});
    }
    steps.clear();
    for (auto& job : cancel_jobs) complete(std::move(job->handler), std::exception_ptr{});
    cancel_jobs.clear();
    if (conn) {
      // connection.close, bounded: at most close_rpc_timeout, less when the deadline is near.
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(close_deadline - Clock::now());
      timeval timeout = to_timeval(std::clamp(left, min_close_rpc_timeout, close_rpc_timeout));
      amqp_set_rpc_timeout(conn, &timeout);
      if (const auto reply = amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
          reply.reply_type != AMQP_RESPONSE_NORMAL) {
        log().debug("connection.close [amqp] to " + settings.address() +
                    " unanswered: " + describe_reply(reply));
      }
      destroy_connection();
    }
    is_connected.store(false);
    state = State::closed;
    // Publish outcomes go to the loop before the close completes (whoever awaits the close
    // may destroy the connection right after).
    flush_results();
    if (close_handler) post_closed(std::move(close_handler));
    close_handler = nullptr;
  }

  void post_closed(std::function<void()> closed) {
    if (detached.load()) return;
    boost::asio::post(loop, std::move(closed));
  }

  void handle(NetworkFailureCommand&) {
    if (const int fd = socket_fd.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }
};

// ---- Connection --------------------------------------------------------------------------

ConnectionSettings ConnectionSettings::from(const Options::Amqp& options) {
  ConnectionSettings settings;
  settings.host = options.host;
  settings.port = options.port;
  settings.login = options.login;
  settings.password = options.password;
  settings.virtualhost = options.virtualhost;
  settings.ssl = options.ssl;
  settings.heartbeat = options.heartbeat;
  return settings;
}

std::string ConnectionSettings::address() const { return host + ":" + std::to_string(port); }

Connection::Connection(ConnectionSettings settings, boost::asio::any_io_executor loop)
    : impl_(std::make_shared<Impl>(std::move(settings), std::move(loop))) {
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

Connection::~Connection() {
  impl_->stopping.store(true);
  impl_->detached.store(true);
  impl_->hand_over();  // acks collected in this turn of the loop still go out
  impl_->push(CloseCommand{Clock::now(), nullptr, true});
  // A write blocked by a dead peer ends when the socket is shut down.
  auto& thread = impl_->thread;
  std::promise<void> joined;
  auto done = joined.get_future();
  std::thread joiner([&thread, &joined] {
    thread.join();
    joined.set_value();
  });
  if (done.wait_for(std::chrono::seconds(5)) == std::future_status::timeout) {
    if (const int fd = impl_->socket_fd.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }
  joiner.join();
}

const ConnectionSettings& Connection::settings() const noexcept { return impl_->settings; }

void Connection::on_deliveries(DeliverySink sink) { impl_->sink = std::move(sink); }

void Connection::set_delivery_preprocessor(std::function<void(Delivery&)> preprocessor) {
  impl_->preprocessor = std::move(preprocessor);
}

Task<void> Connection::connect(Clock::time_point deadline) {
  if (impl_->has_connected.load()) co_return;  // reconnects are the connection's own business
  auto initiation = [impl = impl_.get()](auto handler, Clock::time_point d) {
    impl->push_from_loop(ConnectCommand{VoidHandler(std::move(handler)), d});
  };
  co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>,
                                       void(std::exception_ptr)>(
      initiation, boost::asio::use_awaitable, deadline);
}

Task<void> Connection::connect() {
  co_await connect(Clock::now() + impl_->settings.connect_timeout);
}

Task<StepResult> Connection::execute(TopologyStep step) {
  auto initiation = [impl = impl_.get()](auto handler, TopologyStep s) {
    impl->push_from_loop(ExecuteCommand{std::move(s), StepHandler(std::move(handler))});
  };
  co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>,
                                                 void(std::exception_ptr, StepResult)>(
      initiation, boost::asio::use_awaitable, std::move(step));
}

// Not a coroutine: the awaitable of the initiation itself (one frame less per publish).
Task<void> Connection::publish(OutgoingMessage message, Clock::time_point deadline) {
  auto initiation = [impl = impl_.get()](auto handler, OutgoingMessage m, Clock::time_point d) {
    PendingPublish publish{std::move(m), d, PublishCompletion{VoidHandler(std::move(handler)), {}},
                           std::nullopt};
    impl->push_from_loop(PublishCommand{std::move(publish)});
  };
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>,
                                     void(std::exception_ptr)>(
      initiation, boost::asio::use_awaitable, std::move(message), deadline);
}

void Connection::publish_detached(OutgoingMessage message, Clock::time_point deadline,
                                  std::function<void(std::exception_ptr)> done) {
  PendingPublish publish{std::move(message), deadline,
                         PublishCompletion{std::nullopt, std::move(done)}, std::nullopt};
  impl_->push_from_loop(PublishCommand{std::move(publish)});
}

void Connection::ack(std::uint64_t epoch, std::uint64_t delivery_tag) {
  impl_->push_from_loop(AckCommand{epoch, delivery_tag, true, false});
}

void Connection::nack(std::uint64_t epoch, std::uint64_t delivery_tag, bool requeue) {
  impl_->push_from_loop(AckCommand{epoch, delivery_tag, false, requeue});
}

Task<void> Connection::cancel(std::vector<std::uint32_t> consumer_ids) {
  auto initiation = [impl = impl_.get()](auto handler, std::vector<std::uint32_t> ids) {
    impl->push_from_loop(CancelCommand{std::move(ids), VoidHandler(std::move(handler))});
  };
  co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>,
                                       void(std::exception_ptr)>(
      initiation, boost::asio::use_awaitable, std::move(consumer_ids));
}

// Raced against the deadline on the loop: when the I/O thread has not closed by then (a
// peer that stopped answering), the socket is shut down, which ends any call blocked on it.
Task<bool> Connection::close(Clock::time_point deadline) {
  struct Wait {
    explicit Wait(boost::asio::any_io_executor executor) : timer(std::move(executor)) {}
    boost::asio::steady_timer timer;
    bool closed = false;
  };
  impl_->stopping.store(true);
  auto wait = std::make_shared<Wait>(impl_->loop);
  wait->timer.expires_at(deadline);
  impl_->push_from_loop(CloseCommand{deadline, [wait] {
                                       wait->closed = true;
                                       wait->timer.cancel();
                                     }});
  boost::system::error_code ignored;
  co_await wait->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
  if (wait->closed) co_return true;
  log().warning("closing the connection [amqp] to " + impl_->settings.address() +
                " did not finish within the grace period - dropping it");
  if (const int fd = impl_->socket_fd.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
  co_return false;
}

void Connection::stop_requested() noexcept { impl_->stopping.store(true); }

bool Connection::connected() const noexcept { return impl_->is_connected.load(); }

bool Connection::has_connected() const noexcept { return impl_->has_connected.load(); }

ConnectionStats Connection::stats() const noexcept {
  return ConnectionStats{impl_->stat_connects.load(), impl_->stat_published.load(),
                         impl_->stat_confirmed.load(), impl_->stat_deliveries.load()};
}

std::uint64_t Connection::epoch() const noexcept { return impl_->current_epoch.load(); }

void Connection::simulate_network_failure() { impl_->push(NetworkFailureCommand{}); }

}  // namespace tomodachi::rabbitmq
