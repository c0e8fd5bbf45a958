// Test service of tests/e2e/test_aws_sns_sqs.py. Endpoint from TOMODACHI_TEST_AWS_ENDPOINT;
// topic / queue names from TOMODACHI_TEST_TOPIC, TOMODACHI_TEST_REPLY_QUEUE.
//
// `on_event` (topic TOMODACHI_TEST_TOPIC, competing, JsonBase) logs `received event` with
// the data and message attributes; data {"sleep": s} makes it sleep s seconds first, data
// {"fail": ...} makes it throw (dead-lettered after 3 quick attempts); then it answers with
// sqs_send_message to TOMODACHI_TEST_REPLY_QUEUE (when set).
#include <tomodachi/tomodachi.hpp>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace {
std::string env(const char* name, const char* fallback = "") {
  const char* value = std::getenv(name);
  return value ? value : fallback;
}
}  // namespace

class AwsTestService : public tomodachi::Service {
 public:
  AwsTestService() : Service("aws-test-service") {
    message_envelope = tomodachi::json_base();
    const auto endpoint = env("TOMODACHI_TEST_AWS_ENDPOINT");
    options.aws_endpoint_urls.sns = endpoint;
    options.aws_endpoint_urls.sqs = endpoint;
    options.aws_sns_sqs.region_name = "eu-west-1";
    options.aws_sns_sqs.aws_access_key_id = "test";
    options.aws_sns_sqs.aws_secret_access_key = "test";
    options.http.termination_grace_period_seconds =
        std::atoi(env("TOMODACHI_TEST_GRACE", "30").c_str());
    tomodachi::DeliveryPolicy delivery;
    delivery.initial_backoff = std::chrono::milliseconds(200);
    aws_sns_sqs<&AwsTestService::on_event>(env("TOMODACHI_TEST_TOPIC"),
                                           {.competing = true, .delivery = delivery});
  }

 private:
  tomodachi::Task<void> on_event(tomodachi::Message& message) {
    boost::json::object attributes;
    for (const auto& [name, value] : message.message_attributes()) {
      if (const auto* json_value = std::get_if<boost::json::value>(&value))
        attributes[name] = *json_value;
    }
    message.logger().info("received event",
                          {{"data", message.data()},
                           {"message_attributes", attributes},
                           {"receive_count", message.approximate_receive_count().value_or(0)}});
    const auto& data = message.data();
    if (data.is_object() && data.as_object().contains("fail"))
      throw std::runtime_error("failing on purpose");
    if (data.is_object() && data.as_object().contains("sleep")) {
      co_await tomodachi::sleep(data.at("sleep").to_number<double>());
      message.logger().info("slow handler done");
    }
    const auto reply_queue = env("TOMODACHI_TEST_REPLY_QUEUE");
    if (!reply_queue.empty()) {
      tomodachi::MessageAttributes reply_attributes{
          {"in-reply-to", boost::json::value(message.sns_message_id())}};
      const boost::json::object reply{{"reply", data}};
      co_await tomodachi::sqs_send_message(*this, reply, reply_queue,
                                           {.message_attributes = &reply_attributes});
    }
  }
};

TOMODACHI_SERVICE(AwsTestService);
