#pragma once
// The open rabbitmq-c connection of the I/O thread and its channels: which channel can take
// methods, and the replies awaited on each one (answered in order, or failed together when
// the broker closes the channel). The parts of the I/O thread send through it; a failed
// send is reported with lost(), which the I/O loop turns into a reconnect.

#include "amqp/broker_error.hpp"
#include "amqp/shared_state.hpp"

#include <amqp.h>

#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <string>

namespace tomodachi::amqp_impl {

/// The awaited reply arrived (`reply`), or the broker closed the channel first (`error`).
using ReplyHandler = std::function<void(const amqp_method_t* reply, const BrokerError* error)>;

class Link {
 public:
  using LostHandler = std::function<void(const std::string& reason)>;

  Link(SharedState& shared, LostHandler lost);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  /// The connection, nullptr while there is none.
  amqp_connection_state_t get() const noexcept { return conn_; }
  bool is_open() const noexcept { return conn_ != nullptr; }
  /// The socket to poll (-1 without a connection).
  int socket() const noexcept;
  /// False while a channel closed by the broker is being reopened.
  bool channel_ready(amqp_channel_t channel) const noexcept;

  /// Takes over a connection the handshake opened: its channels are ready, nothing awaited.
  void adopt(amqp_connection_state_t conn);
  /// Drops the connection (and every awaited reply without calling it).
  void destroy();
  /// A send failed or the connection broke: the I/O loop handles the loss.
  void lost(const std::string& reason) { lost_(reason); }

  /// Sends a method; on failure reports lost(`failure`) and returns false.
  bool send(amqp_channel_t channel, amqp_method_number_t id, void* method,
            const std::string& failure);
  /// Awaits `reply_id` on `channel` after the replies awaited there already.
  void expect(amqp_channel_t channel, amqp_method_number_t reply_id, ReplyHandler done);
  /// Hands a method to the reply awaited first on its channel; false when it is not that one.
  bool answer(amqp_channel_t channel, const amqp_method_t& method);

  /// The broker closed `channel` (channel.close received): sends close-ok (false, and lost()
  /// reported, when that fails), marks the channel not ready and fails its awaited replies.
  bool channel_closed(amqp_channel_t channel, const BrokerError& error);
  /// Opens a channel the broker closed again (the publish channel in confirm mode); `ready`
  /// runs when it can take methods again.
  void reopen(amqp_channel_t channel, std::function<void()> ready);

  /// How often the frame loop must read even without input: heartbeat/2 (sends due
  /// heartbeats, detects a silent peer), 30 s without heartbeats.
  std::chrono::milliseconds maintenance_interval() const;

 private:
  struct Expectation {
    amqp_method_number_t reply_id;
    ReplyHandler done;
  };

  SharedState& shared_;
  LostHandler lost_;
  amqp_connection_state_t conn_ = nullptr;
  std::array<bool, 4> channel_ready_{};
  std::array<std::deque<Expectation>, 4> expectations_;
};

}  // namespace tomodachi::amqp_impl
