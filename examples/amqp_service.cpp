// AMQP subscriptions and publishing (Python tomodachi's examples/basic_examples/amqp_service.py).
//
//   tomodachi run examples/amqp_service.cpp            # RabbitMQ on 127.0.0.1:5672, guest/guest
//   tomodachi run examples/amqp_service.cpp -c my.json # {"options": {"amqp": {"host": ..., "port":
//   ...}}}
//
// Messages use the JsonBase envelope, so Python tomodachi services subscribed to the same
// routing keys receive them too (and the other way round).
#include <tomodachi/tomodachi.hpp>

class ExampleAmqpService : public tomodachi::Service {
 public:
  ExampleAmqpService() : Service("example-amqp-service") {
    message_envelope = std::make_shared<tomodachi::JsonBase>();

    // Each running instance gets its own queue for these two (non-competing, the default).
    amqp<&ExampleAmqpService::route1a>("example.route1");
    amqp<&ExampleAmqpService::route1b>("example.route1");
    // All instances share one queue: each message is handled by one of them.
    amqp<&ExampleAmqpService::route2>("example.route2", {.competing = true});
    // Topic-exchange wildcards: `*` one word, `#` any number of words.
    amqp<&ExampleAmqpService::wildcard>("example.#");
    // Raw payloads (no envelope), with upstream's exact outcome rules instead of retries
    // and dead-lettering.
    amqp<&ExampleAmqpService::legacy>("legacy.example",
                                      {.message_envelope = tomodachi::no_envelope,
                                       .delivery = tomodachi::DeliveryPolicy::tomodachi()});
  }

  tomodachi::Task<void> started_service() override {
    const boost::json::object greeting{{"text", "hello from C++"}, {"sender", name()}};
    co_await tomodachi::amqp_publish(*this, greeting, "example.route1");  // returns when confirmed
    co_await tomodachi::amqp_publish(*this, greeting, "example.route2", {.persistent = true});
    const std::string raw = "no envelope, just text";
    co_await tomodachi::amqp_publish(*this, raw, "legacy.example",
                                     {.message_envelope = tomodachi::no_envelope});
  }

 private:
  tomodachi::Task<void> route1a(tomodachi::Message& message) {
    message.logger().info("route1a", {{"data", message.data()}});
    co_return;
  }
  tomodachi::Task<void> route1b(tomodachi::Message& message) {
    message.logger().info("route1b", {{"sender", message.service()}});
    co_return;
  }
  tomodachi::Task<void> route2(tomodachi::Message& message) {
    message.logger().info("route2", {{"topic", message.metadata().at("topic")}});
    co_return;
  }
  tomodachi::Task<void> wildcard(tomodachi::Message& message) {
    // routing_key() is the subscription's key ("example.#"); the envelope knows the real one.
    message.logger().info("wildcard", {{"subscription", message.routing_key()},
                                       {"topic", message.metadata().at("topic")}});
    co_return;
  }
  tomodachi::Task<void> legacy(tomodachi::Message& message) {
    message.logger().info("legacy", {{"payload", message.payload()}});
    co_return;
  }
};

TOMODACHI_SERVICE(ExampleAmqpService);
