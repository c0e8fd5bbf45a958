// One envelope option for every publish call: `{.message_envelope = ...}` means the same for
// amqp_publish, aws_sns_sqs_publish and sqs_send_message (tomodachi::EnvelopeRef).
#include <tomodachi/amqp.hpp>
#include <tomodachi/aws_sns_sqs.hpp>
#include <tomodachi/testing.hpp>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>

#include <map>
#include <string>

#include "test_support.hpp"

namespace {

using messaging_test::TestService;
using tomodachi::Task;
using tomodachi::testing::Broker;

static_assert(std::is_trivially_destructible_v<tomodachi::AmqpPublishOptions>);
static_assert(std::is_trivially_destructible_v<tomodachi::AwsSnsSqsPublishOptions>);
static_assert(std::is_trivially_destructible_v<tomodachi::SqsSendMessageOptions>);
static_assert(std::is_same_v<decltype(tomodachi::AmqpPublishOptions::message_envelope),
                             tomodachi::EnvelopeRef>);
static_assert(std::is_same_v<decltype(tomodachi::AwsSnsSqsPublishOptions::message_envelope),
                             tomodachi::EnvelopeRef>);
static_assert(std::is_same_v<decltype(tomodachi::SqsSendMessageOptions::message_envelope),
                             tomodachi::EnvelopeRef>);

Task<void> publish_every_way(const TestService& service) {
  const std::string text = "hello";
  // The same designated initializer for all three; GCC 12: named data, no braced temporaries.
  co_await tomodachi::amqp_publish(service, text, "amqp.enveloped",
                                   {.message_envelope = tomodachi::json_base()});
  co_await tomodachi::aws_sns_sqs_publish(service, text, "sns.enveloped",
                                          {.message_envelope = tomodachi::json_base()});
  co_await tomodachi::sqs_send_message(service, text, "sqs-enveloped",
                                       {.message_envelope = tomodachi::json_base()});
  co_await tomodachi::amqp_publish(service, text, "amqp.raw",
                                   {.message_envelope = tomodachi::no_envelope});
  co_await tomodachi::aws_sns_sqs_publish(service, text, "sns.raw",
                                          {.message_envelope = tomodachi::no_envelope});
  co_await tomodachi::sqs_send_message(service, text, "sqs-raw",
                                       {.message_envelope = tomodachi::no_envelope});
  co_await tomodachi::aws_sns_sqs_publish(service, text,
                                          "sns.default");  // the service's (raw here)
}

TEST(PublishOptions, EnvelopeChoiceIsTheSameForAmqpAndSnsSqs) {
  TestService service;  // no service envelope: raw by default
  Broker broker;
  broker.intercept_publishing();
  std::map<std::string, std::string> payloads;
  const auto record = [&payloads](tomodachi::Message& message) -> Task<void> {
    payloads[std::string(message.topic().empty() ? message.queue_url() : message.topic())] =
        message.payload();
    co_return;
  };
  for (const char* topic :
       {"amqp.enveloped", "sns.enveloped", "amqp.raw", "sns.raw", "sns.default"}) {
    tomodachi::testing::SubscribeOptions options;
    options.queue = topic;
    options.transport = "aws_sns_sqs";
    options.message_envelope = tomodachi::no_envelope;  // see the payload as sent
    broker.subscribe(service, topic, "h", record, options);
  }
  for (const char* queue : {"sqs-enveloped", "sqs-raw"}) {
    tomodachi::testing::SubscribeOptions options;
    options.queue = queue;
    options.transport = "aws_sns_sqs";
    options.message_envelope = tomodachi::no_envelope;
    broker.subscribe(service, "", "h", record, options);
  }
  boost::asio::co_spawn(broker.executor(), publish_every_way(service),
                        [](std::exception_ptr error) {
                          if (error) std::rethrow_exception(error);
                        });
  broker.run_until_idle();

  ASSERT_EQ(payloads.size(), 7u);
  for (const char* enveloped : {"amqp.enveloped", "sns.enveloped", "memory://sqs-enveloped"}) {
    const tomodachi::ParsedMessage parsed =
        tomodachi::JsonBase().parse(payloads.at(enveloped), nullptr);
    EXPECT_EQ(parsed.message.at("data"), "hello") << enveloped;
  }
  for (const char* raw : {"amqp.raw", "sns.raw", "memory://sqs-raw", "sns.default"}) {
    EXPECT_EQ(payloads.at(raw), "hello") << raw;
  }
}

}  // namespace
