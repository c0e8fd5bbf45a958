#pragma once
// The consumers of a connection: which server-assigned tag belongs to which consumer id,
// and their cancellation — by the loop (basic.cancel, completed when the broker confirmed
// every tag or the connection went down) or by the broker (the queue was deleted). A
// consumer the loop cancelled never consumes again: a consume-ok that arrives after the
// cancel is cancelled at the broker at once.

#include "amqp/commands.hpp"
#include "amqp/consumer_health.hpp"
#include "amqp/link.hpp"
#include "amqp/shared_state.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tomodachi::amqp_impl {

class Consumers {
 public:
  Consumers(SharedState& shared, Link& link);

  /// The consumer id of a delivery's consumer tag; 0 when it has none (cancelled).
  std::uint32_t consumer_of(std::string_view tag) const;

  /// consume-ok for `consumer_id`: its deliveries carry `tag` from now on. False when the
  /// consumer was cancelled meanwhile (then `tag` is cancelled at the broker). `queue` names
  /// the consumer's readiness check.
  bool started(std::uint32_t consumer_id, const std::string& tag, std::string_view queue = {});

  /// basic.cancel for these consumers (the loop's cancel); `done` completes once the
  /// broker confirmed them all, at once when none was consuming.
  void cancel(const std::set<std::uint32_t>& consumer_ids, VoidHandler done);

  /// The broker cancelled `tag` (basic.cancel from the broker): its consumer id, when known.
  std::optional<std::uint32_t> broker_cancelled(const std::string& tag);

  /// The connection is gone: running cancels complete (nothing is delivered any more), the
  /// tags belonged to it.
  void connection_lost(std::string_view reason = {});
  /// The connection closes: running cancels complete.
  void close();

 private:
  struct CancelJob {
    std::set<std::string> remaining_tags;
    VoidHandler handler;
  };

  void cancel_tag(const std::string& tag);
  void finish(CancelJob* job);

  SharedState& shared_;
  Link& link_;
  std::map<std::string, std::uint32_t, std::less<>> consumer_of_tag_;
  std::map<std::uint32_t, std::string> tag_of_consumer_;
  std::vector<std::unique_ptr<CancelJob>> cancel_jobs_;
  std::set<std::uint32_t> cancelled_;  // never consume for these again
  ConsumerHealth health_;
};

}  // namespace tomodachi::amqp_impl
