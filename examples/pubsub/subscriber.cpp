// Subscriber half of examples/pubsub (see README.md there): handles greetings on a
// competing queue (start several subscribers: each greeting is handled once) and replies.
#include <tomodachi/tomodachi.hpp>

class Subscriber : public tomodachi::Service {
 public:
  Subscriber() : Service("pubsub-subscriber") {
    message_envelope = std::make_shared<tomodachi::JsonBase>();
    amqp<&Subscriber::on_greeting>("pubsub.greeting", {.queue_name = "pubsub-greetings"});
  }

 private:
  tomodachi::Task<void> on_greeting(tomodachi::Message& message) {
    const auto n = message.data().at("n");
    message.logger().info("greeting received", {{"n", n}, {"attempt", message.attempt()}});
    const boost::json::object reply{{"n", n}, {"text", "hello back"}};
    co_await tomodachi::amqp_publish(*this, reply, "pubsub.reply");
  }
};

TOMODACHI_SERVICE(Subscriber);
