#pragma once
// The broker calls a subscribing service makes, as data: a plan of steps (qos, exchange and
// queue declarations, bindings, consumers) built from the options and the subscriptions
// exactly as upstream orders them (spec/wire.md §2.1-§2.5), executed one by one by the
// connection and replayed by it after a reconnect.

#include <tomodachi/options.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tomodachi::amqp_impl {

/// basic.qos(prefetch_size=0, prefetch_count, global) on the consumer channel.
struct QosStep {
  std::uint16_t prefetch_count = 0;
  bool global = false;
  friend bool operator==(const QosStep&, const QosStep&) = default;
};

/// exchange.declare(type topic, passive=false, durable, auto_delete=false, no arguments).
struct ExchangeDeclareStep {
  std::string exchange;
  std::string type = "topic";
  bool durable = true;
  bool auto_delete = false;
  friend bool operator==(const ExchangeDeclareStep&, const ExchangeDeclareStep&) = default;
};

/// queue.declare(passive=false, durable, exclusive=false, auto_delete, {x-expires}).
struct QueueDeclareStep {
  std::string queue;
  bool durable = true;
  bool exclusive = false;
  bool auto_delete = false;
  std::optional<std::int64_t> x_expires;  ///< milliseconds
  /// Non-competing queue: a declare-ok reporting a consumer fails the start (only one
  /// instance may consume). Not checked when the connection replays the step.
  bool single_consumer = false;
  /// Only check that the queue exists (404 when it does not), whatever its arguments.
  bool passive = false;
  friend bool operator==(const QueueDeclareStep&, const QueueDeclareStep&) = default;
};

/// queue.bind(queue, exchange, routing_key, no arguments).
struct QueueBindStep {
  std::string queue;
  std::string exchange;
  std::string routing_key;
  friend bool operator==(const QueueBindStep&, const QueueBindStep&) = default;
};

/// basic.consume(queue, no_ack=false, server-assigned tag, exclusive=false); deliveries
/// carry `consumer_id`.
struct ConsumeStep {
  std::string queue;
  std::uint32_t consumer_id = 0;
  friend bool operator==(const ConsumeStep&, const ConsumeStep&) = default;
};

using TopologyStep =
    std::variant<QosStep, ExchangeDeclareStep, QueueDeclareStep, QueueBindStep, ConsumeStep>;

/// What the broker answered to a step (declare-ok counts, consume-ok tag).
struct StepResult {
  std::uint32_t message_count = 0;
  std::uint32_t consumer_count = 0;
  std::string consumer_tag;
};

/// The `amqp.*` options a plan depends on. `queue_ttl` is a double because upstream
/// accepts fractions (`int(1.5 * 1000)` = 1500 ms).
struct TopologySettings {
  std::string exchange_name = "amq.topic";
  std::string routing_key_prefix;
  std::string queue_name_prefix;
  double queue_ttl = 86400;
  int queue_prefetch_count = 100;
  int global_prefetch_count = 400;

  static TopologySettings from(const Options::Amqp& options);
};

/// One `amqp(...)` registration as the planner sees it.
struct SubscriptionSpec {
  std::string routing_key;   ///< unprefixed, unencoded (as given to the registration)
  std::string handler_name;  ///< the member function's name
  std::optional<bool> competing;
  std::optional<std::string> queue_name;
  std::optional<std::string> exchange_name;  ///< empty/unset: option amqp.exchange_name
  std::uint32_t consumer_id = 0;
};

/// The queue a subscription consumes.
std::string queue_name_of(const SubscriptionSpec& subscription, const TopologySettings& settings,
                          std::string_view service_uuid);

/// The exchange a subscription binds to: registration value, else the option, else amq.topic.
std::string exchange_of(const SubscriptionSpec& subscription, const TopologySettings& settings);

/// basic.qos for the consumer channel (queue-level, then global), sent once per connection.
std::vector<TopologyStep> plan_qos(const TopologySettings& settings);

/// Declarations, binding and consumer of one subscription, in upstream's order.
std::vector<TopologyStep> plan_subscription(const SubscriptionSpec& subscription,
                                            const TopologySettings& settings,
                                            std::string_view service_uuid);

/// qos followed by every subscription's steps.
std::vector<TopologyStep> plan_subscriptions(const std::vector<SubscriptionSpec>& subscriptions,
                                             const TopologySettings& settings,
                                             std::string_view service_uuid);

/// Applies the max-consumer rule to a declare-ok: throws AmqpTooManyConsumersException
/// (after logging upstream's warning) when a single-consumer queue already has one.
void check_declare_ok(const QueueDeclareStep& step, const StepResult& result);

/// The dead-letter queue of a subscription queue (`<queue>.dlq`, or an explicit name with
/// the queue-name prefix applied): a durable queue without arguments.
QueueDeclareStep dead_letter_queue_step(std::string_view dead_letter_queue);

/// Short text of a step for logs: `queue.declare "name"`.
std::string describe(const TopologyStep& step);

}  // namespace tomodachi::amqp_impl
