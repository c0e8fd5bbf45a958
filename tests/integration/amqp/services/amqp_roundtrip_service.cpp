// Round trips over RabbitMQ (upstream's test_amqp_service_with_credentials plus more):
// JsonBase on a non-competing queue, two handlers sharing one explicit queue, wildcards,
// an envelope built by Python tomodachi, raw mode, and a payload JsonBase cannot parse
// (dead-lettered by the default policy). Logs `amqp round trip` with what each handler
// saw, then exits (exit code 1 when something is missing after 20 s).
#include <tomodachi/tomodachi.hpp>

#include <boost/json.hpp>

#include <cstdlib>
#include <string>

namespace {
std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}
}  // namespace

class AmqpRoundTrip : public tomodachi::Service {
 public:
  AmqpRoundTrip() : Service("amqp-roundtrip") {
    message_envelope = std::make_shared<tomodachi::JsonBase>();
    amqp<&AmqpRoundTrip::plain>("test.topic");
    amqp<&AmqpRoundTrip::shared_a>("test.topic", {.queue_name = "test-queue"});
    amqp<&AmqpRoundTrip::shared_b>("test.topic", {.queue_name = "test-queue"});
    amqp<&AmqpRoundTrip::wildcard>("test.#");
    amqp<&AmqpRoundTrip::star>("test.*.created");
    amqp<&AmqpRoundTrip::from_python>("test.python");
    amqp<&AmqpRoundTrip::raw>("test.raw", {.message_envelope = tomodachi::no_envelope});
  }

  tomodachi::Task<void> started_service() override {
    // (GCC 12: braced JSON inside a co_await expression does not compile; name it first.)
    const boost::json::object token{{"token", uuid()}};
    const boost::json::object user{{"user", 1}};
    co_await tomodachi::amqp_publish(*this, token, "test.topic");
    co_await tomodachi::amqp_publish(*this, user, "test.user.created");
    const std::string python_payload = env("TOMODACHI_TEST_PYTHON_PAYLOAD");
    co_await tomodachi::amqp_publish(*this, python_payload, "test.python",
                                     {.message_envelope = tomodachi::no_envelope});
    const std::string raw_text = "raw \u00c5\u00c4\u00d6 \u53cb\u9054";
    co_await tomodachi::amqp_publish(*this, raw_text, "test.raw",
                                     {.message_envelope = tomodachi::no_envelope});
    tomodachi::spawn(watchdog(), "watchdog");
  }

 private:
  tomodachi::Task<void> plain(tomodachi::Message& message) {
    seen_["plain"] = boost::json::object{{"data", message.data()},
                                         {"topic", message.metadata().as_object().at("topic")},
                                         {"sender_uuid", message.service().as_object().at("uuid")},
                                         {"routing_key", message.routing_key()},
                                         {"exchange_name", message.exchange_name()}};
    co_await check_done();
  }
  tomodachi::Task<void> shared_a(tomodachi::Message&) {
    count("shared");
    co_await check_done();
  }
  tomodachi::Task<void> shared_b(tomodachi::Message&) {
    count("shared");
    co_await check_done();
  }
  tomodachi::Task<void> wildcard(tomodachi::Message& message) {
    count("wildcard");
    auto& topics = seen_["wildcard_topics"];
    if (!topics.is_array()) topics = boost::json::array();
    topics.as_array().push_back(message.metadata().as_object().at("topic"));
    seen_["wildcard_routing_key"] = message.routing_key();
    co_await check_done();
  }
  tomodachi::Task<void> star(tomodachi::Message& message) {
    seen_["star"] = message.data();
    co_await check_done();
  }
  tomodachi::Task<void> from_python(tomodachi::Message& message) {
    seen_["python"] = boost::json::object{{"data", message.data()},
                                          {"message_uuid", message.message_uuid().value_or("")},
                                          {"sender", message.service()}};
    co_await check_done();
  }
  tomodachi::Task<void> raw(tomodachi::Message& message) {
    seen_["raw"] = message.data();
    seen_["raw_properties"] = message.properties();
    co_await check_done();
  }

  void count(const char* key) {
    auto& value = seen_[key];
    value = value.is_int64() ? value.get_int64() + 1 : 1;
  }

  bool complete() const {
    const auto has = [&](const char* key) { return seen_.contains(key); };
    const auto count_of = [&](const char* key) {
      return seen_.contains(key) ? seen_.at(key).as_int64() : 0;
    };
    return has("plain") && count_of("shared") >= 1 && count_of("wildcard") >= 3 && has("star") &&
           has("python") && has("raw");
  }

  tomodachi::Task<void> check_done() {
    if (reported_ || !complete()) co_return;
    reported_ = true;
    co_await tomodachi::sleep(1.0);  // late duplicates would show up in the record
    const auto context = tomodachi::get_execution_context();
    boost::json::object amqp_context;
    for (const char* key :
         {"amqp_enabled", "amqp_current_tasks", "amqp_total_tasks", "librabbitmq_version"}) {
      if (context.contains(key)) amqp_context[key] = context.at(key);
    }
    logger().info("amqp round trip",
                  {{"seen", seen_}, {"uuid", uuid()}, {"context", amqp_context}});
    tomodachi::exit(0);
  }

  tomodachi::Task<void> watchdog() {
    co_await tomodachi::sleep(20.0);
    if (reported_) co_return;
    logger().error("amqp round trip incomplete", {{"seen", seen_}});
    tomodachi::exit(1);
  }

  boost::json::object seen_;
  bool reported_ = false;
};

TOMODACHI_SERVICE(AmqpRoundTrip);
