#include "amqp/topology.hpp"

#include "amqp/naming.hpp"

#include <tomodachi/amqp.hpp>
#include <tomodachi/error.hpp>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace tomodachi::amqp_impl {
namespace {

constexpr std::string_view default_exchange = "amq.topic";

std::uint16_t prefetch_count(int value, std::string_view key) {
  if (value < 0 || value > std::numeric_limits<std::uint16_t>::max()) {
    throw ArgumentError("option " + std::string(key) + " must be within 0..65535, got " +
                        std::to_string(value));
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

TopologySettings TopologySettings::from(const Options::Amqp& options) {
  TopologySettings settings;
  settings.exchange_name = options.exchange_name;
  settings.routing_key_prefix = options.routing_key_prefix;
  settings.queue_name_prefix = options.queue_name_prefix;
  settings.queue_ttl = options.queue_ttl.value_or(0);
  settings.queue_prefetch_count = options.qos.queue_prefetch_count;
  settings.global_prefetch_count = options.qos.global_prefetch_count;
  return settings;
}

std::string queue_name_of(const SubscriptionSpec& subscription, const TopologySettings& settings,
                          std::string_view service_uuid) {
  return subscription_queue_name(subscription.routing_key, subscription.handler_name, service_uuid,
                                 subscription.competing, subscription.queue_name,
                                 settings.queue_name_prefix);
}

std::string exchange_of(const SubscriptionSpec& subscription, const TopologySettings& settings) {
  if (subscription.exchange_name && !subscription.exchange_name->empty()) {
    return *subscription.exchange_name;
  }
  if (!settings.exchange_name.empty()) return settings.exchange_name;
  return std::string(default_exchange);
}

std::vector<TopologyStep> plan_qos(const TopologySettings& settings) {
  return {
      QosStep{prefetch_count(settings.queue_prefetch_count, "amqp.qos.queue_prefetch_count"),
              false},
      QosStep{prefetch_count(settings.global_prefetch_count, "amqp.qos.global_prefetch_count"),
              true},
  };
}

std::vector<TopologyStep> plan_subscription(const SubscriptionSpec& subscription,
                                            const TopologySettings& settings,
                                            std::string_view service_uuid) {
  std::vector<TopologyStep> steps;
  const std::string exchange = exchange_of(subscription, settings);
  if (exchange != default_exchange) steps.push_back(ExchangeDeclareStep{exchange});

  QueueDeclareStep declare;
  declare.queue = queue_name_of(subscription, settings, service_uuid);
  declare.x_expires = x_expires_ms(settings.queue_ttl);
  // Upstream applies the one-consumer check whenever `competing` is not truthy, also for an
  // explicit queue name given with competing=false (spec/wire.md §2.4, §2.5).
  declare.single_consumer =
      !resolve_competing(subscription.competing, subscription.queue_name.has_value());
  steps.push_back(declare);

  steps.push_back(
      QueueBindStep{declare.queue, exchange,
                    wire_routing_key(subscription.routing_key, settings.routing_key_prefix)});
  steps.push_back(ConsumeStep{declare.queue, subscription.consumer_id});
  return steps;
}

std::vector<TopologyStep> plan_subscriptions(const std::vector<SubscriptionSpec>& subscriptions,
                                             const TopologySettings& settings,
                                             std::string_view service_uuid) {
  std::vector<TopologyStep> steps = plan_qos(settings);
  for (const auto& subscription : subscriptions) {
    auto more = plan_subscription(subscription, settings, service_uuid);
    steps.insert(steps.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
  }
  return steps;
}

void check_declare_ok(const QueueDeclareStep& step, const StepResult& result) {
  if (step.single_consumer && result.consumer_count >= 1) {
    throw AmqpTooManyConsumersException("Max consumers for this queue has been reached");
  }
}

QueueDeclareStep dead_letter_queue_step(std::string_view dead_letter_queue) {
  QueueDeclareStep step;
  step.queue = std::string(dead_letter_queue);
  return step;
}

std::string describe(const TopologyStep& step) {
  struct Visitor {
    std::string operator()(const QosStep& s) const {
      return "basic.qos prefetch_count=" + std::to_string(s.prefetch_count) +
             (s.global ? " global" : "");
    }
    std::string operator()(const ExchangeDeclareStep& s) const {
      return "exchange.declare \"" + s.exchange + "\"";
    }
    std::string operator()(const QueueDeclareStep& s) const {
      return "queue.declare \"" + s.queue + "\"";
    }
    std::string operator()(const QueueBindStep& s) const {
      return "queue.bind \"" + s.queue + "\" to \"" + s.exchange + "\" with \"" + s.routing_key +
             "\"";
    }
    std::string operator()(const ConsumeStep& s) const {
      return "basic.consume \"" + s.queue + "\"";
    }
  };
  return std::visit(Visitor{}, step);
}

}  // namespace tomodachi::amqp_impl
