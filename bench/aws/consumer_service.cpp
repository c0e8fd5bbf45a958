// Consumer of bench/aws/bench_aws.py: one SNS/SQS handler on queue BENCH_QUEUE (no topic),
// JsonBase envelope, default (at-least-once) delivery. Logs `consumed` with the running
// count every 250 ms so the driver can follow progress without per-message records.
#include <tomodachi/tomodachi.hpp>

#include <cstdlib>
#include <string>

class BenchConsumer : public tomodachi::Service {
 public:
  BenchConsumer() : Service("aws-bench-consumer") {
    message_envelope = tomodachi::json_base();
    const std::string endpoint = std::getenv("TOMODACHI_TEST_AWS_ENDPOINT");
    options.aws_endpoint_urls.sns = endpoint;
    options.aws_endpoint_urls.sqs = endpoint;
    options.aws_sns_sqs.region_name = "eu-west-1";
    options.aws_sns_sqs.aws_access_key_id = "bench";
    options.aws_sns_sqs.aws_secret_access_key = "bench";
    aws_sns_sqs<&BenchConsumer::on_message>("", {.queue_name = std::getenv("BENCH_QUEUE")});
  }

  tomodachi::Task<void> started_service() override {
    tomodachi::spawn(report(), "report");
    co_return;
  }

 private:
  tomodachi::Task<void> on_message(tomodachi::Message& message) {
    if (!message.data().is_object()) throw std::runtime_error("unexpected data");
    ++consumed_;
    co_return;
  }

  tomodachi::Task<void> report() {
    for (;;) {
      logger().info("consumed", {{"count", consumed_}});
      co_await tomodachi::sleep(0.25);
    }
  }

  std::int64_t consumed_ = 0;
};

TOMODACHI_SERVICE(BenchConsumer);
