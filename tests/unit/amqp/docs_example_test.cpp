// The example at the top of docs/amqp.md compiles and registers what the text says.
#include <tomodachi/tomodachi.hpp>

#include <gtest/gtest.h>

namespace {

// ---- docs/amqp.md (keep in sync) ----
class Orders : public tomodachi::Service {
 public:
  Orders() : Service("orders") {
    message_envelope = std::make_shared<tomodachi::JsonBase>();
    amqp<&Orders::on_created>("order.created");                       // one queue per instance
    amqp<&Orders::on_any>("order.#", {.competing = true});            // one queue for all instances
    amqp<&Orders::audit>("order.*", {.queue_name = "orders-audit"});  // an explicit, shared queue
  }

 private:
  tomodachi::Task<void> on_created(tomodachi::Message& message) {
    const auto& data = message.data();  // the envelope's `data`
    const boost::json::object reply{{"order", data.at("id")}, {"status", "accepted"}};
    co_await tomodachi::amqp_publish(*this, reply, "order.accepted");
  }
  tomodachi::Task<void> on_any(tomodachi::Message&) { co_return; }
  tomodachi::Task<void> audit(tomodachi::Message&) { co_return; }
};
// ---- end of docs/amqp.md example ----

}  // namespace

TEST(AmqpDocs, ExampleRegistersThreeSubscriptions) {
  Orders service;
  ASSERT_EQ(service.handlers().size(), 3u);
  const auto& first = dynamic_cast<const tomodachi::AmqpHandlerSpec&>(*service.handlers()[0]);
  const auto& second = dynamic_cast<const tomodachi::AmqpHandlerSpec&>(*service.handlers()[1]);
  const auto& third = dynamic_cast<const tomodachi::AmqpHandlerSpec&>(*service.handlers()[2]);
  EXPECT_EQ(first.transport, "amqp");
  EXPECT_EQ(first.name, "on_created");
  EXPECT_EQ(first.pattern, "order.created");
  EXPECT_FALSE(first.competing.has_value());
  EXPECT_EQ(second.competing, true);
  EXPECT_EQ(third.queue_name, "orders-audit");
  // Competing: sha256 of the encoded key only, whatever the handler and instance.
  EXPECT_EQ(tomodachi::amqp_names::queue_name("order.#", "on_any", service.uuid(), true),
            "6fa71bff4be5d81f368dd25e7ec1056a14e031fe22b58b98973cc4eb6dd19c60");
}
