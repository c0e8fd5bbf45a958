#pragma once
// Deliveries on the consumer channel and their acknowledgements: basic.deliver, its header
// and body frames assembled into a Delivery, handed to the loop in batches (one post per
// round of the frame loop); the loop's acks coalesced into basic.ack(multiple) (AckTracker),
// its nacks sent at once. Acks for a delivery of an earlier connection are dropped: the
// broker requeued it with that connection.

#include "amqp/commands.hpp"
#include "amqp/consumers.hpp"
#include "amqp/link.hpp"
#include "amqp/settlement.hpp"
#include "amqp/shared_state.hpp"

#include <amqp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace tomodachi::amqp_impl {

class Deliveries {
 public:
  /// `sink` is the loop's delivery handler (gone with the connection).
  Deliveries(SharedState& shared, Link& link, const Consumers& consumers,
             std::weak_ptr<Connection::DeliverySink> sink);

  /// basic.deliver on `channel` of the connection `epoch`.
  void start(amqp_channel_t channel, const amqp_method_t& method, std::uint64_t epoch);
  /// A content header or body frame (frames on other channels than the consumers' are
  /// skipped: a returned message's content).
  void content(const amqp_frame_t& frame);

  /// The loop's ack (sent with the next send_acks()) or nack (sent now) of a delivery.
  void settle(const AckCommand& command, std::uint64_t epoch);
  /// Sends the acks collected since the last call.
  void send_acks();

  /// Hands the assembled deliveries to the loop.
  void flush();
  /// The connection is gone: its delivery tags mean nothing any more.
  void connection_lost();

 private:
  struct Assembling {
    Delivery delivery;
    std::size_t body_size = 0;
    bool have_header = false;
  };

  void finish();

  SharedState& shared_;
  Link& link_;
  const Consumers& consumers_;
  const std::weak_ptr<Connection::DeliverySink> sink_;
  std::optional<Assembling> assembling_;
  std::vector<Delivery> batch_;
  AckTracker acks_;  // deliveries handed to the loop, not settled at the broker yet
};

}  // namespace tomodachi::amqp_impl
