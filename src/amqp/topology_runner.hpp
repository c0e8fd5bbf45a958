#pragma once
// Topology steps on the broker (topology.hpp), one at a time: the loop's steps in order,
// each completed with the broker's answer, and every step that succeeded recorded so that
// it is replayed after a reconnect (and, for one queue, after the broker cancelled its
// consumer). Replayed steps have no handler; their failures are logged.

#include "amqp/commands.hpp"
#include "amqp/consumers.hpp"
#include "amqp/link.hpp"
#include "amqp/methods.hpp"
#include "amqp/reconnect_policy.hpp"
#include "amqp/shared_state.hpp"

#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace tomodachi::amqp_impl {

class TopologyRunner {
 public:
  TopologyRunner(SharedState& shared, Link& link, Consumers& consumers, ReconnectPolicy& policy);

  /// A step from the loop; `done` gets the broker's answer.
  void add(TopologyStep step, StepHandler done);
  /// Sends the next step when none is on the wire (the connection is open).
  void pump();

  /// After a reconnect: the recorded steps go first, before the loop's steps still waiting.
  void replay();
  /// The broker cancelled `consumer_id` (its queue was deleted): declare, bind and consume
  /// that queue again from what was recorded.
  void consume_again(std::uint32_t consumer_id);
  /// The loop cancelled these consumers: they are not replayed, and their consume steps
  /// not sent yet never go out (their handlers fail).
  void forget_consumers(const std::set<std::uint32_t>& consumer_ids);

  /// The connection is gone: the loop's steps (the one on the wire first) wait for the
  /// reconnect; replayed ones are dropped (the replay after it sends them again).
  void connection_lost();
  /// The connection closes: every waiting step fails with `error`.
  void close(const std::exception_ptr& error);

 private:
  struct Job {
    TopologyStep step;
    std::optional<StepHandler> handler;  // none: a replay
  };

  void finished(const amqp_method_t* reply, const BrokerError* error);
  void fail(Job& job, const BrokerError& error);
  void log_replayed() const;

  SharedState& shared_;
  Link& link_;
  Consumers& consumers_;
  ReconnectPolicy& policy_;
  std::deque<Job> steps_;
  std::optional<Job> in_flight_;
  std::unique_ptr<EncodedStep> encoded_in_flight_;
  std::vector<TopologyStep> recorded_;  // every step that succeeded, in order
};

}  // namespace tomodachi::amqp_impl
