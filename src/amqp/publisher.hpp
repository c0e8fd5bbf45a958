#pragma once
// Publishing in confirm mode on the publish channel: the loop's messages wait in `pending`
// until the channel can take them (open, not blocked by the broker), then for the broker's
// confirm by publish sequence number (ConfirmQueue). Each publish has a deadline; a
// mandatory one the broker returned (basic.return) fails at its confirm. After a reconnect
// the unconfirmed messages are published again, first. Outcomes go to the loop in batches,
// one post per round of the frame loop; an outcome nobody awaits is logged when it failed.

#include "amqp/broker_error.hpp"
#include "amqp/commands.hpp"
#include "amqp/link.hpp"
#include "amqp/settlement.hpp"
#include "amqp/shared_state.hpp"

#include <cstdint>
#include <deque>
#include <exception>
#include <string>
#include <vector>

namespace tomodachi::amqp_impl {

class Publisher {
 public:
  Publisher(SharedState& shared, Link& link);

  /// A publish from the loop, sent when the channel can take it.
  void add(PendingPublish publish);
  /// A publish the connection cannot take (not connected, closed): fails with `reason`.
  void refuse(PendingPublish publish, const std::string& reason);

  /// A new connection: sequence numbers start again, nothing is blocked.
  void connected();
  /// The publish channel is in confirm mode again after the broker closed it.
  void confirm_mode_restarted() { publish_seq_ = 0; }
  /// connection.blocked / connection.unblocked.
  void blocked(const std::string& reason);
  void unblocked();

  /// Messages are waiting and the channel can take them now.
  bool can_send() const;
  /// Nothing waits to be sent or confirmed.
  bool idle() const noexcept { return pending_.empty() && unconfirmed_.empty(); }
  Clock::time_point next_expiry() const noexcept { return next_expiry_; }

  /// Sends waiting messages (a bounded number per round of the frame loop).
  void send_pending();
  /// basic.return of a mandatory message.
  void returned(const std::string& exchange, const std::string& routing_key, int code,
                const std::string& text);
  /// basic.ack / basic.nack from the broker.
  void confirmed(std::uint64_t tag, bool multiple, bool acked);
  /// Fails the publishes whose deadline passed (`connected`: the connection is up, so the
  /// broker did not confirm in time).
  void expire(Clock::time_point now, bool connected);
  /// The broker closed the publish channel.
  void channel_failed(const BrokerError& error);

  /// The connection is gone: unconfirmed messages are sent again after the reconnect.
  void connection_lost();
  /// The connection closes: every waiting publish fails.
  void close();
  /// Posts the outcomes collected so far to the loop.
  void flush();

 private:
  void complete(PublishCompletion completion, std::exception_ptr error);

  SharedState& shared_;
  Link& link_;
  std::deque<PendingPublish> pending_;        // not sent yet
  ConfirmQueue<PendingPublish> unconfirmed_;  // by publish sequence number
  std::uint64_t publish_seq_ = 0;
  bool blocked_ = false;
  Clock::time_point next_expiry_ = Clock::time_point::max();
  struct Outcome {
    PublishCompletion completion;
    std::exception_ptr error;
  };
  std::vector<Outcome> outcomes_;
};

}  // namespace tomodachi::amqp_impl
