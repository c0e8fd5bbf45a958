// AWS SNS + SQS: a service that subscribes an SQS queue to an SNS topic, forwards what it
// receives to another topic, and consumes that one too (the seed README's "aws-example").
//
// Against the fauxqs emulator (no AWS account needed):
//
//   scripts/test-peers/fauxqs.sh start /tmp/peers
//   export $(cat /tmp/peers/fauxqs/env)            #
//   TOMODACHI_TEST_AWS_ENDPOINT=http://127.0.0.1:<port> build/bin/tomodachi run
//   examples/aws_sns_sqs_service.cpp scripts/test-peers/fauxqs.sh stop /tmp/peers
//
// Against AWS: leave TOMODACHI_TEST_AWS_ENDPOINT unset; region and credentials come from
// the usual places (AWS_REGION, AWS_PROFILE, the container or instance role), or from
// `-c config.json` with `{"options": {"aws_sns_sqs": {"region_name": "eu-west-1"}}}`.
#include <tomodachi/tomodachi.hpp>

#include <cstdlib>

class AwsExample : public tomodachi::Service {
 public:
  AwsExample() : Service("aws-example") {
    message_envelope = tomodachi::json_base();
    if (const char* endpoint = std::getenv("TOMODACHI_TEST_AWS_ENDPOINT")) {
      // A local emulator accepts any credentials.
      options.aws_endpoint_urls.sns = endpoint;
      options.aws_endpoint_urls.sqs = endpoint;
      options.aws_sns_sqs.region_name = "eu-west-1";
      options.aws_sns_sqs.aws_access_key_id = "local";
      options.aws_sns_sqs.aws_secret_access_key = "local";
    }
    // SNS topic "example-topic" → SQS queue "example-queue" (created, subscribed, policy set).
    aws_sns_sqs<&AwsExample::example_func>("example-topic", {.queue_name = "example-queue"});
    // Every instance gets its own queue for "another-example-topic" (non-competing), with an
    // SNS filter policy: only messages whose `kind` attribute is "forwarded".
    aws_sns_sqs<&AwsExample::on_forwarded>(
        "another-example-topic",
        {.filter_policy = boost::json::object{{"kind", boost::json::array{"forwarded"}}}});
  }

  tomodachi::Task<void> started_service() override {
    // Something to react to. (GCC 12: build braced values before the `co_await` expression.)
    const boost::json::object greeting{{"greeting", "hello"}};
    co_await tomodachi::aws_sns_sqs_publish(*this, greeting, "example-topic");
  }

 private:
  tomodachi::Task<void> example_func(tomodachi::Message& message) {
    message.logger().info("received", {{"data", message.data()}});
    // Forward the data to another topic, with a message attribute the filter policy selects on.
    tomodachi::MessageAttributes attributes{{"kind", "forwarded"}};
    co_await tomodachi::aws_sns_sqs_publish(*this, message.data(), "another-example-topic",
                                            {.message_attributes = &attributes});
  }

  tomodachi::Task<void> on_forwarded(tomodachi::Message& message) {
    message.logger().info("forwarded message arrived",
                          {{"data", message.data()}, {"sns_message_id", message.sns_message_id()}});
    co_return;
  }
};

TOMODACHI_SERVICE(AwsExample);
