// Publisher half of examples/pubsub (see README.md there): publishes a greeting every
// second and logs the replies the subscriber sends back.
#include <tomodachi/tomodachi.hpp>

class Publisher : public tomodachi::Service {
 public:
  Publisher() : Service("pubsub-publisher") {
    message_envelope = std::make_shared<tomodachi::JsonBase>();
    amqp<&Publisher::on_reply>("pubsub.reply");
  }

  tomodachi::Task<void> started_service() override {
    tomodachi::spawn(publish_greetings(), "greetings");
    co_return;
  }

  tomodachi::Task<void> stopping_service() override {
    running_ = false;
    co_return;
  }

 private:
  tomodachi::Task<void> publish_greetings() {
    for (int n = 1; running_; ++n) {
      const boost::json::object greeting{{"n", n}, {"text", "hello"}};
      std::exception_ptr error;
      try {
        co_await tomodachi::amqp_publish(*this, greeting, "pubsub.greeting", {.persistent = true});
        logger().info("greeting published", {{"n", n}});
      } catch (...) {
        error = std::current_exception();  // e.g. the broker stayed away longer than the timeout
      }
      if (error)
        logger().warning("greeting not published",
                         {{"n", n}, {"error", tomodachi::describe_exception(error)}});
      co_await tomodachi::sleep(1.0);
    }
  }

  tomodachi::Task<void> on_reply(tomodachi::Message& message) {
    message.logger().info("reply received",
                          {{"data", message.data()}, {"from", message.service().at("name")}});
    co_return;
  }

  bool running_ = true;
};

TOMODACHI_SERVICE(Publisher);
