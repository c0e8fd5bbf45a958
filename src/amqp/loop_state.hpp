#pragma once
// The AMQP state of one service loop, shared by every service of the process as upstream
// shares its class-level connection: the consumer connection (declarations, qos,
// consumers, acks) and the publisher connection (confirmed publishes, retries and dead
// letters). Two connections, so that the broker's flow control on publishing never stalls
// consuming and acking. It is an Asio service of the loop's execution context: when the
// loop goes away the connections are closed and their I/O threads joined before any
// handler could be posted into a dead loop.

#include "amqp/connection.hpp"

#include <tomodachi/envelope.hpp>

#include <tomodachi/context.hpp>
#include <tomodachi/options.hpp>
#include <tomodachi/transport/transport.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

namespace tomodachi::amqp_impl {

class LoopState final : public boost::asio::execution_context::service {
 public:
  using key_type = LoopState;
  static boost::asio::execution_context::id id;

  explicit LoopState(boost::asio::execution_context& context);
  ~LoopState() override;

  /// The state of the loop `executor` belongs to.
  static LoopState& of(const boost::asio::any_io_executor& executor);

  /// The consumer connection; the first caller's options configure it (as upstream, where
  /// the first service to connect decides). Not connected yet.
  Connection& consumer_connection(const Options::Amqp& options,
                                  const boost::asio::any_io_executor& executor);
  /// The publisher connection, created on first use. Its drain is registered with
  /// on_process_stop(): after every service stopped (stop_service hooks may still publish),
  /// unconfirmed publishes get until the stop deadline, then the connection is closed and
  /// its I/O thread joined.
  Connection& publisher_connection(const Options::Amqp& options,
                                   const boost::asio::any_io_executor& executor);

  /// True once per consumer connection: whoever gets it sends basic.qos.
  bool claim_qos();

  /// Routes deliveries of consumer `id` (allocated here) to `handler`, on the loop.
  using DeliveryHandler = std::function<void(Delivery&& delivery)>;
  std::uint32_t add_consumer(DeliveryHandler handler);
  void remove_consumer(std::uint32_t id);

  /// Deliveries of consumer `id` get their payload parsed with `envelope` on the consumer
  /// connection's I/O thread (see amqp/preparse.hpp).
  void parse_off_loop(std::uint32_t id, std::shared_ptr<const Envelope> envelope);

  /// A transport instance starts / stops using the consumer connection; the last one to
  /// stop closes it (after its acks went out, bounded by `deadline`).
  void retain_consumer_connection() { ++consumer_users_; }
  Task<void> release_consumer_connection(Deadline deadline);

  /// Dead-letter queues already declared on the consumer connection.
  std::set<std::string>& declared_dead_letter_queues() { return dead_letter_queues_; }

  ExecutionCounter& current_tasks() { return current_tasks_; }
  ExecutionCounter& total_tasks() { return total_tasks_; }

 private:
  void shutdown() override;
  Task<void> drain_publisher(Deadline deadline);
  void route(std::vector<Delivery>& batch);

  std::unique_ptr<Connection> consumer_;
  std::unique_ptr<Connection> publisher_;
  bool qos_claimed_ = false;
  int consumer_users_ = 0;
  std::uint32_t next_consumer_id_ = 0;
  std::unordered_map<std::uint32_t, DeliveryHandler> consumers_;
  // Read by the consumer connection's I/O thread.
  std::mutex parse_mutex_;
  std::unordered_map<std::uint32_t, std::shared_ptr<const Envelope>> parse_envelopes_;
  std::set<std::string> dead_letter_queues_;
  ExecutionCounter current_tasks_{"amqp_current_tasks"};
  ExecutionCounter total_tasks_{"amqp_total_tasks"};
};

}  // namespace tomodachi::amqp_impl
