#pragma once
// Connecting and reconnecting one connection: the loop's first connect (one attempt,
// bounded by its deadline and the connect timeout), then — once it succeeded — reconnects
// on its own after every loss, on the schedule of the ReconnectPolicy, each followed by the
// replay of the recorded topology. Each open connection gets the next epoch: deliveries
// carry it, so acks for an earlier connection are recognised and dropped.

#include "amqp/commands.hpp"
#include "amqp/link.hpp"
#include "amqp/reconnect_policy.hpp"
#include "amqp/shared_state.hpp"
#include "amqp/topology_runner.hpp"

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>

namespace tomodachi::amqp_impl {

class Connector {
 public:
  /// `opened` runs whenever a connection opened (the first or a reconnect), before anything
  /// is sent on it.
  Connector(SharedState& shared, Link& link, ReconnectPolicy& policy, TopologyRunner& topology,
            std::function<void()> opened);

  /// True once the first connect succeeded (from then on the connection reconnects).
  bool ever_connected() const noexcept { return ever_connected_; }
  /// The epoch of the current (or last) connection.
  std::uint64_t epoch() const noexcept { return epoch_; }

  /// The loop's first connect: the error to complete it with (none: connected).
  std::exception_ptr connect_first(Clock::time_point deadline);
  /// When the next reconnect attempt is due.
  Clock::time_point next_attempt() const noexcept { return policy_.next_attempt(); }
  /// One reconnect attempt; true when the connection is open again (replay queued).
  bool reconnect();
  /// The connection was lost (not while closing): logged, dropped, next attempt scheduled.
  void lost(const std::string& reason);

 private:
  bool open(std::chrono::milliseconds timeout, std::string& reason);

  SharedState& shared_;
  Link& link_;
  ReconnectPolicy& policy_;
  TopologyRunner& topology_;
  std::function<void()> opened_;
  bool ever_connected_ = false;
  std::uint64_t epoch_ = 0;
  Clock::time_point lost_at_{};
  std::string last_failure_;  // logged once until the reason changes
};

}  // namespace tomodachi::amqp_impl
