// AMQP test service whose behaviour is chosen by TOMODACHI_TEST_MODE:
//   wait        one non-competing JsonBase handler on `test.wait` (exchange from
//               TOMODACHI_TEST_EXCHANGE), runs until stopped
//   policies    delivery policies: a handler failing twice then succeeding, a poison message
//               dead-lettered after 3 attempts, upstream's outcomes in tomodachi mode
//   fault       publishes a stream of confirmed persistent messages and consumes it; logs
//               `published` / `publish failed` / `handled` records; runs until stopped
//   bad_input   non-UTF-8, malformed and huge payloads, then a good one
//   drain       slow handlers (2 s); the driver stops the service while they run
//   typed       a handler that always fails (2 attempts, then dead-lettered); the driver
//               publishes a message with typed headers and reads the dead letter raw
//   stop_publish  publishes TOMODACHI_TEST_COUNT messages without waiting from its
//               stop_service hook (the publisher drain must deliver every one)
//   locked      one handler on the explicit queue `locked` (held exclusively by the driver)
//   duplicates  publishes a JsonBase message, and once it is handled TOMODACHI_TEST_COUNT
//               copies of it (same message_uuid); exits 3 s after the last copy
// Results are log records (`--logger json`) the driver reads.
#include <tomodachi/tomodachi.hpp>

#include <boost/json.hpp>

#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

namespace {
std::string env(const char* name, const char* fallback = "") {
  const char* value = std::getenv(name);
  return value ? value : fallback;
}
const std::string mode = env("TOMODACHI_TEST_MODE", "wait");
}  // namespace

class AmqpModes : public tomodachi::Service {
 public:
  AmqpModes() : Service("amqp-modes") {
    message_envelope = std::make_shared<tomodachi::JsonBase>();
    if (mode == "wait") {
      amqp<&AmqpModes::waiting>("test.wait", {.exchange_name = env("TOMODACHI_TEST_EXCHANGE")});
    } else if (mode == "policies") {
      tomodachi::DeliveryPolicy quick = tomodachi::DeliveryPolicy::at_least_once();
      quick.initial_backoff = std::chrono::milliseconds(200);
      amqp<&AmqpModes::flaky>("test.flaky", {.competing = true, .delivery = quick});
      amqp<&AmqpModes::poison>("test.poison", {.queue_name = "poison", .delivery = quick});
      amqp<&AmqpModes::dead_letters>("test.unused",
                                     {.queue_name = "poison.dlq",
                                      .message_envelope = tomodachi::no_envelope,
                                      .delivery = tomodachi::DeliveryPolicy::tomodachi()});
      amqp<&AmqpModes::compat_error>(
          "test.compat.error",
          {.competing = true, .delivery = tomodachi::DeliveryPolicy::tomodachi()});
      amqp<&AmqpModes::compat_internal>(
          "test.compat.internal",
          {.competing = true, .delivery = tomodachi::DeliveryPolicy::tomodachi()});
    } else if (mode == "fault") {
      amqp<&AmqpModes::stream>("test.stream", {.queue_name = "stream"});
    } else if (mode == "bad_input") {
      amqp<&AmqpModes::checked>("test.input", {.queue_name = "input"});
      amqp<&AmqpModes::checked_compat>(
          "test.input",
          {.queue_name = "input-compat", .delivery = tomodachi::DeliveryPolicy::tomodachi()});
      amqp<&AmqpModes::huge>("test.huge",
                             {.competing = true, .message_envelope = tomodachi::no_envelope});
    } else if (mode == "drain") {
      amqp<&AmqpModes::slow>("test.slow", {.queue_name = "slow"});
    } else if (mode == "typed") {
      tomodachi::DeliveryPolicy twice = tomodachi::DeliveryPolicy::at_least_once();
      twice.initial_backoff = std::chrono::milliseconds(100);
      twice.max_attempts = 2;
      amqp<&AmqpModes::always_failing>(
          "test.typed",
          {.queue_name = "typed", .message_envelope = tomodachi::no_envelope, .delivery = twice});
    } else if (mode == "stop_publish") {
      amqp<&AmqpModes::waiting>("test.onstop", {.queue_name = "onstop"});
    } else if (mode == "locked") {
      amqp<&AmqpModes::waiting>("test.locked", {.queue_name = "locked"});
    } else if (mode == "duplicates") {
      amqp<&AmqpModes::dup>("test.dups", {.queue_name = "dups"});
    }
  }

  tomodachi::Task<void> stop_service() override {
    if (mode != "stop_publish") co_return;
    const int count = std::stoi(env("TOMODACHI_TEST_COUNT", "300"));
    const std::string pad(4000, 'p');  // enough bytes that sending takes several rounds
    for (int i = 0; i < count; ++i) {
      const boost::json::object data{{"i", i}, {"pad", pad}};
      co_await tomodachi::amqp_publish(*this, data, "test.onstop",
                                       {.wait = false, .persistent = true});
    }
    record("stop publishes handed over", {{"count", count}});
  }

  tomodachi::Task<void> started_service() override {
    if (mode == "policies") {
      const boost::json::object one{{"n", 1}};
      for (const char* key :
           {"test.flaky", "test.poison", "test.compat.error", "test.compat.internal"}) {
        co_await tomodachi::amqp_publish(*this, one, key);
      }
      tomodachi::spawn(finish_policies(), "finish");
    } else if (mode == "fault") {
      tomodachi::spawn(publish_stream(), "publisher");
    } else if (mode == "bad_input") {
      co_await publish_bad_input();
    } else if (mode == "duplicates") {
      co_await tomodachi::amqp_publish(*this, duplicate_payload(), "test.dups",
                                       {.message_envelope = tomodachi::no_envelope});
    } else if (mode == "drain") {
      for (int i = 0; i < 3; ++i) {
        const boost::json::object data{{"i", i}};
        co_await tomodachi::amqp_publish(*this, data, "test.slow");
      }
    }
  }

 private:
  void record(const char* what, boost::json::object fields = {}) {
    tomodachi::LogFields log_fields;
    for (const auto& [key, value] : fields) log_fields.push_back({std::string(key), value});
    logger().info(what, std::move(log_fields));
  }

  tomodachi::Task<void> waiting(tomodachi::Message&) { co_return; }

  // ---- policies ----
  tomodachi::Task<void> flaky(tomodachi::Message& message) {
    record("flaky attempt", {{"attempt", message.attempt()}});
    if (message.attempt() < 3)
      throw std::runtime_error("flaky failure " + std::to_string(message.attempt()));
    co_return;
  }
  tomodachi::Task<void> poison(tomodachi::Message& message) {
    record("poison attempt", {{"attempt", message.attempt()}});
    throw std::runtime_error("poison pill");
  }
  tomodachi::Task<void> dead_letters(tomodachi::Message& message) {
    record("dead letter", {{"body", message.payload()}, {"properties", message.properties()}});
    co_return;
  }
  tomodachi::Task<void> compat_error(tomodachi::Message&) {
    record("compat error attempt");
    throw std::runtime_error("ordinary failure: dropped as upstream does");
  }
  tomodachi::Task<void> compat_internal(tomodachi::Message&) {
    record("compat internal attempt");
    if (++internal_calls_ == 1) throw tomodachi::AmqpInternalServiceError("try again");
    co_return;
  }
  tomodachi::Task<void> finish_policies() {
    co_await tomodachi::sleep(8.0);  // backoffs 0.2 s + 0.4 s; the dead letter arrives after
    record("policies done");
    tomodachi::exit(0);
  }

  // ---- fault ----
  tomodachi::Task<void> publish_stream() {
    const int count = std::stoi(env("TOMODACHI_TEST_COUNT", "300"));
    for (int i = 0; i < count; ++i) {
      const boost::json::object data{{"i", i}};
      std::exception_ptr error;
      try {
        co_await tomodachi::amqp_publish(*this, data, "test.stream",
                                         {.persistent = true, .timeout = std::chrono::seconds(40)});
      } catch (...) {
        error = std::current_exception();
      }
      if (error) {
        record("publish failed", {{"i", i}, {"error", tomodachi::describe_exception(error)}});
      } else {
        record("published", {{"i", i}});
      }
      co_await tomodachi::sleep(0.02);
    }
    record("publisher done", {{"count", count}});
  }
  tomodachi::Task<void> stream(tomodachi::Message& message) {
    record("handled", {{"i", message.data().at("i")}});
    co_return;
  }

  // ---- bad input ----
  tomodachi::Task<void> publish_bad_input() {
    static constexpr char not_utf8_text[] = "{\"bad\": \"\xff\xfe\"}";
    const std::string not_utf8(not_utf8_text, sizeof(not_utf8_text) - 1);
    const std::string malformed = "{\"service\": {\"name\": ";
    const std::string huge(std::stoi(env("TOMODACHI_TEST_HUGE", "16777216")), 'h');
    const boost::json::object good{{"good", true}};
    co_await tomodachi::amqp_publish(*this, not_utf8, "test.input",
                                     {.message_envelope = tomodachi::no_envelope});
    co_await tomodachi::amqp_publish(*this, malformed, "test.input",
                                     {.message_envelope = tomodachi::no_envelope});
    co_await tomodachi::amqp_publish(*this, huge, "test.huge",
                                     {.message_envelope = tomodachi::no_envelope});
    co_await tomodachi::amqp_publish(*this, good, "test.input");
  }
  tomodachi::Task<void> checked(tomodachi::Message& message) {
    record("input handled", {{"data", message.data()}});
    co_return;
  }
  tomodachi::Task<void> checked_compat(tomodachi::Message& message) {
    record("input handled (tomodachi policy)", {{"data", message.data()}});
    co_return;
  }
  tomodachi::Task<void> huge(tomodachi::Message& message) {
    record("huge handled", {{"size", message.payload().size()}});
    co_return;
  }

  // ---- typed ----
  tomodachi::Task<void> always_failing(tomodachi::Message& message) {
    record("typed attempt", {{"attempt", message.attempt()}});
    throw std::runtime_error("typed failure");
    co_return;
  }

  // ---- duplicates ----
  static std::string duplicate_payload() {
    return R"({"service": {"name": "amqp-modes", "uuid": "u"}, "metadata": {"message_uuid": )"
           R"("u.duplicated", "protocol_version": "tomodachi-json-base--1.0.0", "timestamp": 1, )"
           R"("topic": "test.dups", "data_encoding": "raw"}, "data": {"n": 1}})";
  }
  tomodachi::Task<void> dup(tomodachi::Message& message) {
    record("dup handled", {{"message_uuid", message.get("message_uuid")}});
    if (++dup_calls_ == 1) tomodachi::spawn(publish_copies(), "copies");
    co_return;
  }
  tomodachi::Task<void> publish_copies() {
    const int count = std::stoi(env("TOMODACHI_TEST_COUNT", "40"));
    const std::string payload = duplicate_payload();
    for (int i = 0; i < count; ++i) {
      co_await tomodachi::amqp_publish(*this, payload, "test.dups",
                                       {.message_envelope = tomodachi::no_envelope});
    }
    record("copies published", {{"count", count}});
    co_await tomodachi::sleep(3.0);  // the burst ends 1 s after the last copy
    record("duplicates done");
    tomodachi::exit(0);
  }

  // ---- drain ----
  tomodachi::Task<void> slow(tomodachi::Message& message) {
    record("slow started", {{"i", message.data().at("i")}});
    co_await tomodachi::sleep(2.0);
    record("slow finished", {{"i", message.data().at("i")}});
  }

  int internal_calls_ = 0;
  int dup_calls_ = 0;
};

TOMODACHI_SERVICE(AmqpModes);
