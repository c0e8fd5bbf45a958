#pragma once
/// @file
/// `tomodachi::testing::Broker`: an in-memory message broker for unit tests of services.
/// It routes like an AMQP topic exchange (`*` = one word, `#` = zero or more), and runs
/// every delivery through the same messaging core as the AMQP and SNS/SQS transports:
/// envelopes, message middleware, duplicate suppression and delivery policies (retries
/// with backoff, dead-letter queues, upstream's requeue rules). No broker process needed.
///
/// ```cpp
/// TEST(Orders, RetriesThenDeadLetters) {
///   tomodachi::testing::Broker broker;          // own loop, virtual clock
///   OrderService service;
///   broker.attach(service);                     // its amqp / aws_sns_sqs handlers
///                                               // (here on_order, with competing = true)
///   broker.publish(service, {{"id", "A-1"}}, "order.created");
///   broker.run_until_idle();                    // backoff delays pass in virtual time
///   EXPECT_EQ(broker.messages("order-service.on_order.dlq").size(), 1);
/// }
/// ```
///
/// With its own loop (the default constructor) the broker runs only inside
/// `run_until_idle()`, and delays (retry backoff, requeue) pass in virtual time, so
/// tests are fast and deterministic. Given an executor it runs on that loop with real
/// timers. To run whole services with the runtime (lifecycle hooks included) on the
/// broker, construct it with `Broker::RuntimeLoop{}` and register it as the transport:
///
/// ```cpp
/// tomodachi::testing::Broker broker{tomodachi::testing::Broker::RuntimeLoop{}};
/// // register_transport: <tomodachi/transport/transport.hpp>
/// tomodachi::register_transport("amqp", broker.transport_factory());
/// tomodachi::register_transport("aws_sns_sqs", broker.transport_factory());
/// broker.intercept_publishing();
/// ```

#include <tomodachi/delivery.hpp>
#include <tomodachi/detail/bind_member.hpp>
#include <tomodachi/detail/handler_name.hpp>
#include <tomodachi/envelope.hpp>
#include <tomodachi/message.hpp>
#include <tomodachi/message_attributes.hpp>
#include <tomodachi/service.hpp>
#include <tomodachi/transport/transport.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tomodachi::testing {

/// AMQP topic-exchange matching: words split at `.`, `*` matches one word, `#` zero or more.
bool topic_matches(std::string_view pattern, std::string_view routing_key) noexcept;

/// A message held by the broker.
struct BrokerMessage {
  std::string payload;
  /// The routing key / topic it was published with ("" for direct queue sends).
  std::string routing_key;
  MessageAttributes message_attributes;
  /// Headers, e.g. the dead-letter headers (`tomodachi::dead_letter_header`).
  std::map<std::string, std::string, std::less<>> headers;
  /// Delivery attempt the next delivery will be (1 for a new message).
  int attempt = 1;
  std::string message_id;
};

/// A subscription made directly on the broker.
struct SubscribeOptions {
  /// Queue to consume from; subscriptions naming the same queue compete for its
  /// messages. "" = a queue named after the subscription (see `competing`).
  std::string queue;
  /// Without `queue`: true or unset = `<service name>.<handler name>`, one queue that every
  /// instance of the service consumes (competing consumers); false = a queue per instance,
  /// `<service name>.<handler name>.<service uuid>` (each instance gets every message).
  /// `attach()` and `transport_factory()` read registrations as the real transports do:
  /// a registration without `queue_name` and without `competing = true` is non-competing.
  std::optional<bool> competing;
  /// Envelope override (unset: the service's `message_envelope`).
  EnvelopeOverride message_envelope;
  DeliveryPolicy delivery;
  /// The transport the subscription stands in for: `amqp` or `aws_sns_sqs` (logger
  /// names, transport values offered to the handler, internal-service-error type).
  std::string transport = "amqp";
};

/// Options of a publish through the broker.
struct PublishOptions {
  EnvelopeOverride message_envelope;
  MessageAttributes message_attributes;
  /// Fixed uuid4 / time for the envelope (reproducible payloads; duplicate tests).
  std::optional<std::string> uuid4;
  std::optional<double> time;
};

/// What the broker did with deliveries, counted per outcome.
struct BrokerStats {
  std::size_t delivered = 0;
  std::size_t acked = 0;
  std::size_t dropped = 0;
  std::size_t requeued = 0;
  std::size_t retries_scheduled = 0;
  std::size_t dead_lettered = 0;
  std::size_t duplicates_deferred = 0;
};

class Broker {
 public:
  /// A broker with its own loop and a virtual clock, driven by `run_until_idle()`.
  Broker();
  /// A broker on `executor`'s loop with real timers. It must outlive the deliveries
  /// running on that loop; delayed redeliveries still waiting when it is destroyed are
  /// cancelled.
  explicit Broker(boost::asio::any_io_executor executor);
  /// A broker on the loop of the services it serves through `transport_factory()`
  /// (bound when the first of them starts), with real timers.
  struct RuntimeLoop {};
  explicit Broker(RuntimeLoop);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  boost::asio::any_io_executor executor() const;

  /// Subscribes `handler` (named `handler_name`) of `service` to messages whose routing
  /// key matches `pattern`. The service's `message_middleware` and `message_envelope`
  /// apply as they are now. Throws tomodachi::ArgumentError like a real registration
  /// (e.g. ProtobufBase without message type).
  void subscribe(Service& service, std::string pattern, std::string handler_name,
                 MessageHandler handler, SubscribeOptions options = {});

  /// Subscribes member function `Fn` (`Task<void> (S::*)(Message&)`).
  template <auto Fn>
  void subscribe(Service& service, std::string pattern, SubscribeOptions options = {}) {
    subscribe(service, std::move(pattern), std::string(detail::handler_name<Fn>()),
              MessageHandler(detail::bind_member<Fn>(service)), std::move(options));
  }

  /// Subscribes every AMQP and SNS/SQS registration (`MessageHandlerSpec`) of `service`.
  void attach(Service& service);

  /// Publishes `data` as `sender` would (its envelope unless overridden) with
  /// `routing_key`; every queue bound to a matching pattern gets a copy. Returns the
  /// message id.
  std::string publish(const Service& sender, const PublishData& data, std::string routing_key,
                      PublishOptions options = {});
  /// Puts `payload` on the exchange as is (no envelope), e.g. a poison message.
  std::string publish_payload(std::string routing_key, std::string payload,
                              MessageAttributes attributes = {});
  /// Sends `payload` straight to queue `queue` (created when missing).
  std::string send_to_queue(std::string queue, std::string payload,
                            MessageAttributes attributes = {});

  /// A transport factory for `tomodachi::register_transport`: the registrations of a
  /// running service (`MessageHandlerSpec`s) are subscribed when it starts and drained
  /// when it stops. Needs a broker made with an executor or `RuntimeLoop`.
  TransportFactory transport_factory();

  /// Routes the services' own publishing (`amqp_publish`, `aws_sns_sqs_publish`,
  /// `sqs_send_message`) to this broker until it is destroyed (or another broker
  /// intercepts; destroying this one then leaves the other's in place).
  void intercept_publishing();

  /// Runs deliveries, handlers and delayed redeliveries until nothing is left; the
  /// virtual clock advances at most `max_virtual_time`. Rethrows an error that escaped a
  /// delivery. Only for a broker with its own loop.
  void run_until_idle(std::chrono::milliseconds max_virtual_time = std::chrono::hours(1));

  /// Messages waiting in `queue` (dead-letter queues included; empty when unknown).
  std::vector<BrokerMessage> messages(std::string_view queue) const;
  /// Every queue, in creation order.
  std::vector<std::string> queue_names() const;
  const BrokerStats& stats() const noexcept;
  /// Virtual time elapsed (own loop) since construction.
  std::chrono::milliseconds virtual_time() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tomodachi::testing
