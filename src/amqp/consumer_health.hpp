#pragma once
// The readiness of a connection's consumers (docs/operations.md): one ReadinessReport
// `amqp:<queue>` per consumer, passing while it is registered on the live channel (its
// basic.consume-ok seen since the last reconnect), failing with the reason otherwise (a
// reconnect in progress, a cancel by the broker). I/O thread only (the reports themselves
// are thread-safe: the health endpoints read them).

#include <tomodachi/transport/health.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace tomodachi::amqp_impl {

class ConsumerHealth {
 public:
  /// basic.consume-ok for `consumer_id` on `queue`.
  void consuming(std::uint32_t consumer_id, std::string_view queue);
  /// The broker cancelled the consumer (its queue was deleted); it consumes again.
  void cancelled_by_broker(std::uint32_t consumer_id);
  /// The connection is gone; every consumer waits for the reconnect.
  void connection_lost(std::string_view reason);
  /// The loop cancelled these consumers (the process stops): they leave readiness.
  void forget(const std::set<std::uint32_t>& consumer_ids);
  /// The connection closed.
  void closed();

 private:
  struct Entry {
    ReadinessReport report;
    std::string queue;
    bool cancelled_by_broker = false;  ///< since its last consume-ok
  };
  std::map<std::uint32_t, Entry> entries_;
};

}  // namespace tomodachi::amqp_impl
