// The service of tests/e2e/test_telemetry_messaging.py: one request crosses every
// instrumented transport, so one trace spans HTTP -> AMQP -> SNS/SQS -> SQS:
//
//   GET /order?id=N        amqp_publish({"order": N}, $TOMODACHI_TEST_ROUTING_KEY)
//   on_order   (AMQP)      aws_sns_sqs_publish({"order": N}, $TOMODACHI_TEST_TOPIC)
//   on_event   (SNS/SQS)   sqs_send_message to $TOMODACHI_TEST_REPLY_QUEUE (the test reads it)
//                          and to $TOMODACHI_TEST_QUEUE (a queue without a topic)
//   on_direct  (SQS only)
//   GET /crowded           sqs_send_message with 10 attributes of its own, twice
//   tick       (schedule)  once at start
//
// TOMODACHI_TEST_ROLE=front registers the HTTP routes only (service `telemetry-front`),
// =back everything else (`telemetry-back`): the same trace across two processes.
// Every handler logs `handled` with its step and the current span's ids.
#include <tomodachi/tomodachi.hpp>
#include <tomodachi/trace.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <string>

using namespace std::chrono_literals;

namespace {
std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string service_name() {
  const std::string role = env("TOMODACHI_TEST_ROLE");
  return role.empty() ? "telemetry-messaging" : "telemetry-" + role;
}

std::int64_t order_of(const tomodachi::Message& message) {
  const auto& data = message.data();
  if (!data.is_object() || !data.as_object().contains("order")) return -1;
  return data.at("order").to_number<std::int64_t>();
}
}  // namespace

class MessagingTelemetry : public tomodachi::Service {
 public:
  MessagingTelemetry() : Service(service_name()) {
    message_envelope = tomodachi::json_base();
    options.http.port = 0;
    options.amqp.port = std::atoi(env("TOMODACHI_TEST_AMQP_PORT").c_str());
    const auto endpoint = env("TOMODACHI_TEST_AWS_ENDPOINT");
    options.aws_endpoint_urls.sns = endpoint;
    options.aws_endpoint_urls.sqs = endpoint;
    options.aws_sns_sqs.region_name = "eu-west-1";
    options.aws_sns_sqs.aws_access_key_id = "test";
    options.aws_sns_sqs.aws_secret_access_key = "test";
    const std::string role = env("TOMODACHI_TEST_ROLE");
    if (role != "back") {
      http<&MessagingTelemetry::order>("GET", "/order");
      http<&MessagingTelemetry::crowded>("GET", "/crowded");
    }
    if (role == "front") return;
    amqp<&MessagingTelemetry::on_order>(env("TOMODACHI_TEST_ROUTING_KEY"));
    aws_sns_sqs<&MessagingTelemetry::on_event>(env("TOMODACHI_TEST_TOPIC"), {.competing = true});
    aws_sns_sqs<&MessagingTelemetry::on_direct>("", {.queue_name = env("TOMODACHI_TEST_QUEUE")});
    schedule<&MessagingTelemetry::tick>(tomodachi::every(3600s).run_immediately());
  }

  tomodachi::Task<std::string> order(tomodachi::Request& request) {
    const std::int64_t id = std::atoll(std::string(request.query("id").value_or("0")).c_str());
    handled("http", id);
    const boost::json::object data{{"order", id}};
    co_await tomodachi::amqp_publish(*this, data, env("TOMODACHI_TEST_ROUTING_KEY"));
    co_return "published";
  }

  tomodachi::Task<std::string> crowded(tomodachi::Request&) {
    tomodachi::MessageAttributes attributes;
    for (int i = 0; i < 10; ++i)
      attributes.set("a" + std::to_string(i), boost::json::value(std::to_string(i)));
    const boost::json::object data{{"crowded", true}};
    const std::string queue = env("TOMODACHI_TEST_REPLY_QUEUE");
    co_await tomodachi::sqs_send_message(*this, data, queue, {.message_attributes = &attributes});
    co_await tomodachi::sqs_send_message(*this, data, queue, {.message_attributes = &attributes});
    co_return "sent";
  }

 private:
  tomodachi::Task<void> on_order(tomodachi::Message& message) {
    const std::int64_t id = order_of(message);
    handled("amqp", id);
    const boost::json::object data{{"order", id}};
    co_await tomodachi::aws_sns_sqs_publish(*this, data, env("TOMODACHI_TEST_TOPIC"));
  }

  tomodachi::Task<void> on_event(tomodachi::Message& message) {
    const std::int64_t id = order_of(message);
    handled("sns", id);
    const boost::json::object data{{"order", id}};
    tomodachi::MessageAttributes attributes{{"kind", boost::json::value("reply")}};
    co_await tomodachi::sqs_send_message(*this, data, env("TOMODACHI_TEST_REPLY_QUEUE"),
                                         {.message_attributes = &attributes});
    co_await tomodachi::sqs_send_message(*this, data, env("TOMODACHI_TEST_QUEUE"));
  }

  tomodachi::Task<void> on_direct(tomodachi::Message& message) {
    handled("sqs", order_of(message));
    co_return;
  }

  tomodachi::Task<void> tick(const tomodachi::ScheduleInvocation&) {
    handled("schedule", 0);
    co_return;
  }

  void handled(const char* step, std::int64_t order) {
    const auto span = tomodachi::trace::current_span();
    logger().info("handled", {{"step", step},
                              {"order", order},
                              {"span_trace_id", span.trace_id_hex()},
                              {"span_span_id", span.span_id_hex()},
                              {"span_parent_id", span.parent_span_id_hex()}});
  }
};

TOMODACHI_SERVICE(MessagingTelemetry);
