// The examples of docs/messaging.md, compiled and run as tests (keep them in sync).
#include <tomodachi/testing.hpp>
#include <tomodachi/tomodachi.hpp>

#include <gtest/gtest.h>
#include <boost/describe.hpp>

#include <map>

namespace docs_example {

// ---- docs/messaging.md: "A service and its test" -----------------------------------
struct Order {
  std::string id;
  int quantity = 0;
  std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(Order, (), (id, quantity, note))

class OrderService : public tomodachi::Service {
 public:
  OrderService() : Service("order-service") {
    message_envelope = tomodachi::json_base();  // JsonBase, as Python services use
    message_middleware.push_back(&OrderService::log_attempts);
  }

  tomodachi::Task<void> on_order(tomodachi::Message& message) {
    const Order order = message.data_as<Order>();  // DataError names a field that does not fit
    if (order.quantity <= 0) throw std::invalid_argument("quantity must be positive");
    totals[order.id] += order.quantity;
    co_return;
  }

  std::map<std::string, int> totals;

 private:
  static tomodachi::Task<void> log_attempts(tomodachi::Message& message,
                                            tomodachi::MiddlewareContext&,
                                            const tomodachi::MessageNext& next) {
    if (message.attempt() > 1) message.logger().info("retrying", {{"attempt", message.attempt()}});
    co_await next();
  }
};

TEST(OrderServiceExample, AddsUpOrders) {
  tomodachi::testing::Broker broker;  // in memory, virtual clock
  OrderService service;
  broker.subscribe<&OrderService::on_order>(service, "order.created");

  broker.publish(service, {{"id", "A-1"}, {"quantity", 2}}, "order.created");
  broker.publish(service, {{"id", "A-1"}, {"quantity", 3}}, "order.created");
  broker.run_until_idle();

  EXPECT_EQ(service.totals["A-1"], 5);
}

TEST(OrderServiceExample, DeadLettersAnInvalidOrderAfterThreeAttempts) {
  tomodachi::testing::Broker broker;
  OrderService service;
  broker.subscribe<&OrderService::on_order>(service, "order.created");

  broker.publish(service, {{"id", "A-2"}, {"quantity", 0}}, "order.created");
  broker.run_until_idle();  // 1 s and 2 s of backoff pass in virtual time

  const auto dead = broker.messages("order-service.on_order.dlq");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].headers.at("x-tomodachi-error"), "quantity must be positive");
  EXPECT_EQ(dead[0].headers.at("x-tomodachi-attempts"), "3");
  EXPECT_EQ(broker.stats().retries_scheduled, 2u);
}

TEST(OrderServiceExample, UpstreamRulesOnRequest) {
  tomodachi::testing::Broker broker;
  OrderService service;
  broker.subscribe<&OrderService::on_order>(service, "order.created",
                                            {.delivery = tomodachi::DeliveryPolicy::tomodachi()});

  broker.publish(service, {{"id", "A-3"}, {"quantity", 0}}, "order.created");
  broker.run_until_idle();

  EXPECT_EQ(broker.stats().dropped, 1u);  // logged as `uncaught exception: ...`, acked
  EXPECT_TRUE(broker.messages("order-service.on_order.dlq").empty());
}

// ---- docs/messaging.md: "Custom envelopes" -----------------------------------------
// Upstream's test envelope: build → {"envelope": "custom", "data": <data>}; parse →
// (json.loads(payload), None, None).
class CustomEnvelope final : public tomodachi::Envelope {
 public:
  std::string_view name() const noexcept override { return "CustomEnvelope"; }

  std::string build(const tomodachi::PublishData& data,
                    const tomodachi::BuildContext&) const override {
    return tomodachi::json::dumps(
        boost::json::object{{"envelope", "custom"}, {"data", data.json()}});
  }

  tomodachi::ParsedMessage parse(std::string_view payload,
                                 const tomodachi::MessageAttributes*) const override {
    tomodachi::ParsedMessage parsed;
    parsed.message = tomodachi::json::loads(payload);  // throws on invalid JSON
    return parsed;                                     // no message_uuid: no duplicate suppression
  }
};

TEST(CustomEnvelopeExample, RoundTrips) {
  tomodachi::testing::Broker broker;
  OrderService service;
  service.message_envelope = std::make_shared<CustomEnvelope>();
  boost::json::value seen;
  broker.subscribe(service, "custom", "on_custom",
                   [&seen](tomodachi::Message& message) -> tomodachi::Task<void> {
                     seen =
                         message.get("envelope");  // top-level keys of the parsed message, by name
                     EXPECT_EQ(message.data(), "hello");
                     co_return;
                   });
  broker.publish(service, "hello", "custom");
  broker.run_until_idle();
  EXPECT_EQ(seen, "custom");
}

}  // namespace docs_example
