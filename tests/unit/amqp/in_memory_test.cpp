// A service's `amqp` registrations and `amqp_publish` calls work against the messaging
// core's in-memory broker (how users unit-test AMQP services without RabbitMQ).
#include <tomodachi/amqp.hpp>
#include <tomodachi/testing.hpp>

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <algorithm>

namespace {

class Relay : public tomodachi::Service {
 public:
  Relay() : Service("relay") {
    message_envelope = std::make_shared<tomodachi::JsonBase>();
    amqp<&Relay::on_order>("order.created", {.competing = true});
    amqp<&Relay::on_accepted>("order.#");
  }
  std::vector<std::string> seen;

 private:
  tomodachi::Task<void> on_order(tomodachi::Message& message) {
    seen.push_back("order " + boost::json::serialize(message.data()));
    const boost::json::object reply{{"accepted", message.data().at("id")}};
    co_await tomodachi::amqp_publish(*this, reply, "order.accepted", {.wait = false});
  }
  tomodachi::Task<void> on_accepted(tomodachi::Message& message) {
    seen.push_back(std::string(message.routing_key()) + " " +
                   std::string(message.metadata().at("topic").as_string()));
    co_return;
  }
};

}  // namespace

TEST(AmqpInMemory, RegistrationsAndPublishesGoThroughTheTestBroker) {
  tomodachi::testing::Broker broker;
  broker.intercept_publishing();
  Relay service;
  broker.attach(service);
  const boost::json::object order{{"id", "A-1"}};
  broker.publish(service, order, "order.created");
  broker.run_until_idle();
  std::sort(service.seen.begin(), service.seen.end());
  EXPECT_EQ(service.seen,
            (std::vector<std::string>{"order {\"id\":\"A-1\"}", "order.# order.accepted",
                                      "order.# order.created"}));
}

TEST(AmqpPublishOptions, EnvelopeChoicesMapToTheMessagingCore) {
  static_assert(std::is_trivially_destructible_v<tomodachi::AmqpPublishOptions>);
  const auto json = std::make_shared<tomodachi::JsonBase>();
  EXPECT_EQ(tomodachi::AmqpPublishOptions{}.message_envelope.as_override(),
            std::nullopt);  // service default
  const tomodachi::AmqpPublishOptions raw{.message_envelope = tomodachi::no_envelope};
  ASSERT_TRUE(raw.message_envelope.as_override().has_value());
  EXPECT_EQ(*raw.message_envelope.as_override(), nullptr);
  const tomodachi::AmqpPublishOptions given{.message_envelope = json};
  EXPECT_EQ(given.message_envelope.as_override()->get(), json.get());
  const tomodachi::AmqpPublishOptions pointer{.message_envelope = tomodachi::json_base().get()};
  EXPECT_EQ(pointer.message_envelope.as_override()->get(), tomodachi::json_base().get());
  const tomodachi::EnvelopeOverride override_choice = json;
  EXPECT_EQ(tomodachi::EnvelopeRef(override_choice).as_override()->get(), json.get());
}
