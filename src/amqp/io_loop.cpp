#include "amqp/io_loop.hpp"

#include <tomodachi/detail/assert.hpp>

#include "amqp/broker_error.hpp"
#include "amqp/handshake.hpp"
#include "amqp/log.hpp"
#include "amqp/methods.hpp"

#include <amqp_framing.h>

#include <boost/asio/post.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <set>
#include <thread>
#include <variant>

namespace tomodachi::amqp_impl {
namespace {

constexpr int frames_per_round = 512;
constexpr std::chrono::milliseconds close_rpc_timeout{2000};
constexpr std::chrono::milliseconds min_close_rpc_timeout{100};

int milliseconds_until(Clock::time_point when) {
  if (when == Clock::time_point::max()) return -1;
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(when - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left + 1, 0, 3600 * 1000));
}

int min_timeout(int a, int b) {
  if (a < 0) return b;
  if (b < 0) return a;
  return std::min(a, b);
}

}  // namespace

IoLoop::IoLoop(SharedState& shared, CommandQueue& commands,
               std::weak_ptr<Connection::DeliverySink> sink)
    : shared_(shared),
      commands_(commands),
      link_(shared, [this](const std::string& reason) { connection_lost(reason); }),
      policy_(shared.settings.reconnect_min_delay, shared.settings.reconnect_max_delay),
      consumers_(shared, link_),
      topology_(shared, link_, consumers_, policy_),
      deliveries_(shared, link_, consumers_, std::move(sink)),
      publisher_(shared, link_),
      connector_(shared, link_, policy_, topology_, [this] { opened(); }) {}

void IoLoop::run() {
  shared_.io_thread = std::this_thread::get_id();
  while (!(state_ == State::closed && exit_requested_)) {
    take_commands();
    publisher_.expire(Clock::now(), state_ == State::connected);
    flush_results();
    switch (state_) {
      case State::idle:
        commands_.wait(link_.socket(), -1);
        break;
      case State::reconnecting:
        reconnect_step();
        break;
      case State::connected:
      case State::closing:
        service_connection();
        break;
      case State::closed:
        if (!exit_requested_) commands_.wait(-1, -1);  // commands are refused from now on
        break;
    }
    flush_results();
  }
  TOMODACHI_ASSERT(!link_.is_open(), "closed: no connection left");
}

void IoLoop::flush_results() {
  deliveries_.flush();
  publisher_.flush();
}

void IoLoop::take_commands() {
  shared_.assert_io_thread();
  for (auto& command : commands_.take()) {
    std::visit([this](auto& c) { handle(c); }, command);
  }
  deliveries_.send_acks();
}

bool IoLoop::open_for_work() const {
  return state_ != State::closed && state_ != State::closing && connector_.ever_connected();
}

// ---- commands ----

void IoLoop::handle(ConnectCommand& command) {
  if (state_ == State::closed) {
    shared_.complete(
        std::move(command.handler),
        std::make_exception_ptr(AmqpConnectionException("the AMQP connection is closed")));
    return;
  }
  if (connector_.ever_connected()) {  // connected, or reconnecting on its own
    shared_.complete(std::move(command.handler), std::exception_ptr{});
    return;
  }
  shared_.complete(std::move(command.handler), connector_.connect_first(command.deadline));
}

void IoLoop::handle(ExecuteCommand& command) {
  if (!open_for_work()) {
    shared_.complete(
        std::move(command.handler),
        std::make_exception_ptr(AmqpConnectionException("the AMQP connection is not open")),
        StepResult{});
    return;
  }
  topology_.add(std::move(command.step), std::move(command.handler));
}

void IoLoop::handle(PublishCommand& command) {
  if (!open_for_work()) {
    publisher_.refuse(std::move(command.publish),
                      state_ == State::idle
                          ? "not connected [amqp] to " + shared_.settings.address()
                          : "the AMQP connection is closed");
    return;
  }
  publisher_.add(std::move(command.publish));
}

void IoLoop::handle(AckCommand& command) { deliveries_.settle(command, connector_.epoch()); }

void IoLoop::handle(CancelCommand& command) {
  const std::set<std::uint32_t> ids(command.consumer_ids.begin(), command.consumer_ids.end());
  topology_.forget_consumers(ids);
  consumers_.cancel(ids, std::move(command.handler));
}

void IoLoop::handle(CloseCommand& command) {
  exit_requested_ = exit_requested_ || command.exit_thread;
  if (state_ == State::closed) {
    if (command.closed) post_closed(std::move(command.closed));
    return;
  }
  if (close_handler_ && command.closed) {
    // A second close (the destructor's, or another caller's): both are told.
    close_handler_ = [first = std::move(close_handler_), second = std::move(command.closed)] {
      first();
      second();
    };
  } else if (command.closed) {
    close_handler_ = std::move(command.closed);
  }
  close_deadline_ =
      state_ == State::closing ? std::min(close_deadline_, command.deadline) : command.deadline;
  if (state_ == State::connected) {
    state_ = State::closing;
    return;
  }
  link_.destroy();
  finish_close();
}

void IoLoop::handle(NetworkFailureCommand&) {
  if (const int fd = shared_.socket_fd.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

// ---- connecting, losing the connection ----

void IoLoop::opened() {
  publisher_.connected();
  state_ = State::connected;
  shared_.is_connected.store(true);
  ++shared_.connects;
  next_maintenance_ = Clock::now() + link_.maintenance_interval();
}

void IoLoop::reconnect_step() {
  if (Clock::now() < connector_.next_attempt()) {
    const int timeout = min_timeout(milliseconds_until(connector_.next_attempt()),
                                    milliseconds_until(publisher_.next_expiry()));
    commands_.wait(link_.socket(), timeout);
    return;
  }
  connector_.reconnect();
}

// The connection is gone: every part keeps what must survive (the loop's steps, unsent and
// unconfirmed publishes) and drops what belonged to the connection; a reconnect follows.
void IoLoop::connection_lost(const std::string& reason) {
  if (state_ == State::closing) {
    log().warning("lost connection [amqp] to " + shared_.settings.address() + " while closing (" +
                  reason + ")");
    link_.destroy();
    finish_close();
    return;
  }
  connector_.lost(reason);
  topology_.connection_lost();
  publisher_.connection_lost();
  consumers_.connection_lost(reason);
  deliveries_.connection_lost();
  state_ = State::reconnecting;
}

// ---- the connected frame loop ----

void IoLoop::service_connection() {
  publisher_.send_pending();
  if (state_ == State::connected) topology_.pump();
  if (!link_.is_open()) return;
  if (state_ == State::closing && (publisher_.idle() || Clock::now() >= close_deadline_)) {
    finish_close();
    return;
  }
  bool readable = amqp_frames_enqueued(link_.get()) || amqp_data_in_buffer(link_.get());
  if (!readable) {
    int timeout = min_timeout(milliseconds_until(next_maintenance_),
                              milliseconds_until(publisher_.next_expiry()));
    if (state_ == State::closing)
      timeout = min_timeout(timeout, milliseconds_until(close_deadline_));
    if (publisher_.can_send()) timeout = 0;
    readable = commands_.wait(link_.socket(), timeout);
  }
  // Reading inside rabbitmq-c also sends due heartbeats and detects a silent peer, so read
  // at least every heartbeat/2 even when nothing arrived.
  if (readable || Clock::now() >= next_maintenance_) {
    next_maintenance_ = Clock::now() + link_.maintenance_interval();
    read_frames();
  }
}

void IoLoop::read_frames() {
  for (int n = 0; n < frames_per_round && link_.is_open(); ++n) {
    amqp_frame_t frame;
    timeval zero{0, 0};
    const int status = amqp_simple_wait_frame_noblock(link_.get(), &frame, &zero);
    if (status == AMQP_STATUS_TIMEOUT) break;
    if (status != AMQP_STATUS_OK) {
      connection_lost(describe_status(status));
      return;
    }
    handle_frame(frame);
  }
  deliveries_.flush();
  if (link_.is_open()) amqp_maybe_release_buffers(link_.get());
}

void IoLoop::handle_frame(const amqp_frame_t& frame) {
  switch (frame.frame_type) {
    case AMQP_FRAME_METHOD:
      handle_method(frame.channel, frame.payload.method);
      break;
    case AMQP_FRAME_HEADER:
    case AMQP_FRAME_BODY:
      deliveries_.content(frame);
      break;
    default:
      break;
  }
}

void IoLoop::handle_method(amqp_channel_t channel, const amqp_method_t& method) {
  if (channel == 0) {
    handle_connection_method(method);
    return;
  }
  switch (method.id) {
    case AMQP_CHANNEL_CLOSE_METHOD:
      channel_closed(channel, method);
      return;
    case AMQP_BASIC_DELIVER_METHOD:
      deliveries_.start(channel, method, connector_.epoch());
      return;
    case AMQP_BASIC_ACK_METHOD: {
      const auto* ack = static_cast<const amqp_basic_ack_t*>(method.decoded);
      if (channel == publish_channel)
        publisher_.confirmed(ack->delivery_tag, ack->multiple != 0, true);
      return;
    }
    case AMQP_BASIC_NACK_METHOD: {
      const auto* nack = static_cast<const amqp_basic_nack_t*>(method.decoded);
      if (channel == publish_channel)
        publisher_.confirmed(nack->delivery_tag, nack->multiple != 0, false);
      return;
    }
    case AMQP_BASIC_CANCEL_METHOD: {
      // The queue was deleted (or the node holding it went away): consume it again.
      const auto* cancel = static_cast<const amqp_basic_cancel_t*>(method.decoded);
      if (const auto consumer_id = consumers_.broker_cancelled(to_string(cancel->consumer_tag)))
        topology_.consume_again(*consumer_id);
      return;
    }
    case AMQP_BASIC_RETURN_METHOD: {
      // Sent before the confirm of the same message; its header and body frames that
      // follow on the publish channel are skipped (Deliveries keeps only the consumers').
      const auto* returned = static_cast<const amqp_basic_return_t*>(method.decoded);
      if (channel == publish_channel) {
        publisher_.returned(to_string(returned->exchange), to_string(returned->routing_key),
                            returned->reply_code, to_string(returned->reply_text));
      }
      return;
    }
    default:
      break;
  }
  if (link_.answer(channel, method)) return;
  log().debug("unexpected method [amqp] on channel " + std::to_string(channel) + ": " +
              amqp_method_name(method.id));
}

void IoLoop::handle_connection_method(const amqp_method_t& method) {
  switch (method.id) {
    case AMQP_CONNECTION_CLOSE_METHOD: {
      const auto* close = static_cast<const amqp_connection_close_t*>(method.decoded);
      const std::string text = to_string(close->reply_text);
      amqp_connection_close_ok_t ok{};
      amqp_send_method(link_.get(), 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      connection_lost("closed by the broker: " + text);
      return;
    }
    case AMQP_CONNECTION_BLOCKED_METHOD: {
      const auto* blocked = static_cast<const amqp_connection_blocked_t*>(method.decoded);
      publisher_.blocked(to_string(blocked->reason));
      return;
    }
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
      publisher_.unblocked();
      return;
    default:
      log().debug(std::string("unexpected connection method [amqp]: ") +
                  amqp_method_name(method.id));
  }
}

void IoLoop::channel_closed(amqp_channel_t channel, const amqp_method_t& method) {
  const auto* close = static_cast<const amqp_channel_close_t*>(method.decoded);
  const BrokerError error{close->reply_code, to_string(close->reply_text)};
  if (!link_.channel_closed(channel, error)) return;  // the connection is lost
  if (channel == consumer_channel) {
    // Deliveries in flight belong to this channel: start over on a new connection.
    connection_lost("consumer channel closed by the broker: " + error.text);
    return;
  }
  if (channel != publish_channel) {
    link_.reopen(channel, nullptr);
    return;
  }
  publisher_.channel_failed(error);
  link_.reopen(channel, [this] { publisher_.confirm_mode_restarted(); });
}

// ---- closing ----

void IoLoop::finish_close() {
  publisher_.close();
  topology_.close(
      std::make_exception_ptr(AmqpConnectionException("the AMQP connection is closed")));
  consumers_.close();
  if (link_.is_open()) {
    // connection.close, bounded: at most close_rpc_timeout, less when the deadline is near.
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(close_deadline_ - Clock::now());
    close_connection(link_.get(), std::clamp(left, min_close_rpc_timeout, close_rpc_timeout),
                     shared_.settings.address());
    link_.destroy();
  }
  shared_.is_connected.store(false);
  state_ = State::closed;
  // Publish outcomes go to the loop before the close completes (whoever awaits the close
  // may destroy the connection right after).
  flush_results();
  if (close_handler_) post_closed(std::move(close_handler_));
  close_handler_ = nullptr;
}

void IoLoop::post_closed(std::function<void()> closed) {
  if (shared_.detached.load()) return;
  boost::asio::post(shared_.loop, std::move(closed));
}

}  // namespace tomodachi::amqp_impl
