// Both delivery policies on the in-memory broker: retries with backoff, dead-lettering,
// poison messages, and upstream's (tomodachi) outcome rules.
#include <tomodachi/error.hpp>
#include <tomodachi/testing.hpp>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace {

using messaging_test::LogCapture;
using messaging_test::TestService;
using tomodachi::DeliveryPolicy;
using tomodachi::Message;
using tomodachi::Task;
using tomodachi::testing::Broker;
using tomodachi::testing::SubscribeOptions;
using namespace std::chrono_literals;

SubscribeOptions with_policy(DeliveryPolicy policy, std::string transport = "amqp") {
  SubscribeOptions options;
  options.delivery = std::move(policy);
  options.transport = std::move(transport);
  return options;
}

struct Recorder {
  std::vector<int> attempts;
  std::vector<std::chrono::milliseconds> times;
};

tomodachi::MessageHandler failing_times(int failures, Recorder& recorder, const Broker& broker) {
  return [failures, &recorder, &broker](Message& message) -> Task<void> {
    recorder.attempts.push_back(message.attempt());
    recorder.times.push_back(broker.virtual_time());
    if (static_cast<int>(recorder.attempts.size()) <= failures)
      throw std::runtime_error("temporary failure");
    co_return;
  };
}

TEST(AtLeastOnce, AHandlerThatFailsTwiceThenSucceedsIsRetriedWithBackoff) {
  TestService service;
  service.message_envelope = tomodachi::json_base();
  Broker broker;
  Recorder recorder;
  LogCapture logs;
  broker.subscribe(service, "orders.created", "on_order", failing_times(2, recorder, broker));
  broker.publish(service, {{"id", 1}}, "orders.created");
  broker.run_until_idle();

  EXPECT_EQ(recorder.attempts, (std::vector<int>{1, 2, 3}));
  // Backoff: 1 s after the first failure, 2 s after the second (virtual time).
  EXPECT_EQ(recorder.times, (std::vector<std::chrono::milliseconds>{0ms, 1000ms, 3000ms}));
  EXPECT_EQ(broker.stats().retries_scheduled, 2u);
  EXPECT_EQ(broker.stats().acked, 1u);
  EXPECT_EQ(broker.stats().dead_lettered, 0u);
  EXPECT_TRUE(broker.messages("test-service.on_order.dlq").empty());
  const auto retries = logs.with_message("message handler failed: retrying");
  ASSERT_EQ(retries.size(), 2u);
  EXPECT_EQ(retries[0].logger, "tomodachi.amqp.handler");
  EXPECT_EQ(*retries[0].field("handler"), "on_order");
  EXPECT_EQ(*retries[0].field("type"), "tomodachi.amqp");
  EXPECT_EQ(*retries[0].field("exc_message"), "temporary failure");
  EXPECT_EQ(*retries[1].field("retry_in_ms"), 2000);
}

TEST(AtLeastOnce, AfterMaxAttemptsTheMessageIsDeadLetteredWithTheError) {
  TestService service;
  service.message_envelope = tomodachi::json_base();
  Broker broker;
  Recorder recorder;
  LogCapture logs;
  broker.subscribe(service, "orders.created", "on_order", failing_times(100, recorder, broker));
  broker.publish(service, {{"id", 1}}, "orders.created");
  broker.run_until_idle();

  EXPECT_EQ(recorder.attempts, (std::vector<int>{1, 2, 3}));
  const auto dead = broker.messages("test-service.on_order.dlq");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].headers.at("x-tomodachi-error"), "temporary failure");
  EXPECT_EQ(dead[0].headers.at("x-tomodachi-error-type"), "std::runtime_error");
  EXPECT_EQ(dead[0].headers.at("x-tomodachi-attempts"), "3");
  EXPECT_EQ(dead[0].headers.at("x-tomodachi-source-queue"), "test-service.on_order");
  EXPECT_EQ(dead[0].headers.at("x-tomodachi-handler"), "on_order");
  // The original payload, unchanged.
  EXPECT_EQ(tomodachi::JsonBase().parse(dead[0].payload, nullptr).message.at("data"),
            (boost::json::value{{"id", 1}}));
  EXPECT_EQ(broker.stats().acked, 0u);
  EXPECT_EQ(broker.stats().dead_lettered, 1u);
  EXPECT_EQ(logs.with_message("message handler failed on every attempt: dead-lettering the message")
                .size(),
            1u);
}

TEST(AtLeastOnce, APoisonMessageIsDeadLetteredAtOnce) {
  TestService service;
  service.message_envelope = tomodachi::json_base();
  Broker broker;
  bool handled = false;
  LogCapture logs;
  broker.subscribe(service, "orders.created", "on_order", [&handled](Message&) -> Task<void> {
    handled = true;
    co_return;
  });
  broker.publish_payload("orders.created", "this is not an envelope");
  broker.run_until_idle();

  EXPECT_FALSE(handled);
  const auto dead = broker.messages("test-service.on_order.dlq");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].payload, "this is not an envelope");
  EXPECT_EQ(dead[0].headers.at("x-tomodachi-attempts"), "1");
  EXPECT_EQ(dead[0].headers.at("x-tomodachi-error-type"), "tomodachi::EnvelopeError");
  EXPECT_EQ(broker.stats().retries_scheduled, 0u);
  EXPECT_EQ(logs.with_message("unparseable message: dead-lettering it").size(), 1u);
}

TEST(AtLeastOnce, TheDeadLetterQueueCanBeNamed) {
  TestService service;
  Broker broker;
  DeliveryPolicy policy;
  policy.max_attempts = 1;
  policy.dead_letter_queue = "failed-orders";
  broker.subscribe(
      service, "t", "h", [](Message&) -> Task<void> { throw std::runtime_error("no"); },
      with_policy(policy));
  broker.publish_payload("t", "x");
  broker.run_until_idle();
  EXPECT_EQ(broker.messages("failed-orders").size(), 1u);
  EXPECT_TRUE(broker.messages("test-service.h.dlq").empty());
}

TEST(AtLeastOnce, InternalServiceErrorsAreRetriedToo) {
  TestService service;
  Broker broker;
  int calls = 0;
  broker.subscribe(service, "t", "h", [&calls](Message&) -> Task<void> {
    if (++calls == 1) throw tomodachi::AmqpInternalServiceError("try again");
    co_return;
  });
  broker.publish_payload("t", "x");
  broker.run_until_idle();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(broker.stats().acked, 1u);
  EXPECT_EQ(broker.stats().requeued, 0u);
}

TEST(DeliveryPolicy, BackoffGrowsAndIsCapped) {
  DeliveryPolicy policy;
  policy.initial_backoff = 500ms;
  policy.backoff_multiplier = 3;
  policy.max_backoff = 10s;
  EXPECT_EQ(policy.retry_delay(1), 500ms);
  EXPECT_EQ(policy.retry_delay(2), 1500ms);
  EXPECT_EQ(policy.retry_delay(3), 4500ms);
  EXPECT_EQ(policy.retry_delay(4), 10s);
  EXPECT_EQ(policy.retry_delay(1000), 10s);
}

TEST(DeliveryPolicy, BadValuesAreRejectedAtRegistration) {
  TestService service;
  Broker broker;
  DeliveryPolicy policy;
  policy.max_attempts = 0;
  try {
    broker.subscribe(
        service, "t", "on_order", [](Message&) -> Task<void> { co_return; }, with_policy(policy));
    FAIL() << "expected tomodachi::ArgumentError";
  } catch (const tomodachi::ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("on_order"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("max_attempts"), std::string::npos) << e.what();
  }
}

TEST(DeliveryPolicy, DefaultDeadLetterQueueNames) {
  EXPECT_EQ(tomodachi::default_dead_letter_queue("orders"), "orders.dlq");
  EXPECT_EQ(tomodachi::default_dead_letter_queue("orders.fifo"),
            "orders.fifo.dlq");  // no FIFO rule on AMQP
  EXPECT_EQ(tomodachi::default_dead_letter_queue("orders.fifo", "amqp"), "orders.fifo.dlq");
  EXPECT_EQ(tomodachi::default_dead_letter_queue("orders", "amqp"), "orders.dlq");
  EXPECT_EQ(tomodachi::default_dead_letter_queue("orders", "aws_sns_sqs"), "orders-dlq");
  EXPECT_EQ(tomodachi::default_dead_letter_queue("orders.fifo", "aws_sns_sqs"), "orders-dlq.fifo");
}

TEST(AtLeastOnce, TheInMemoryBrokerNamesDeadLetterQueuesAsEachTransportDoes) {
  TestService service;
  Broker broker;
  DeliveryPolicy policy;
  policy.max_attempts = 1;
  const auto failing = [](Message&) -> Task<void> { throw std::runtime_error("no"); };
  broker.subscribe(service, "a", "on_amqp", failing, with_policy(policy, "amqp"));
  broker.subscribe(service, "s", "on_sns", failing, with_policy(policy, "aws_sns_sqs"));
  broker.publish_payload("a", "x");
  broker.publish_payload("s", "x");
  broker.run_until_idle();
  EXPECT_EQ(broker.messages("test-service.on_amqp.dlq").size(), 1u);
  EXPECT_EQ(broker.messages("test-service.on_sns-dlq").size(), 1u);
}

// ---- tomodachi (upstream) compatibility -----------------------------------------------

TEST(TomodachiPolicy, OrdinaryExceptionsAreLoggedAndTheMessageDropped) {
  TestService service;
  service.message_envelope = tomodachi::json_base();
  Broker broker;
  Recorder recorder;
  LogCapture logs;
  broker.subscribe(service, "t", "h", failing_times(100, recorder, broker),
                   with_policy(DeliveryPolicy::tomodachi()));
  broker.publish(service, 1, "t");
  broker.run_until_idle();
  EXPECT_EQ(recorder.attempts, (std::vector<int>{1}));
  EXPECT_EQ(broker.stats().dropped, 1u);
  EXPECT_EQ(broker.stats().acked, 1u);
  EXPECT_EQ(broker.stats().dead_lettered, 0u);
  const auto uncaught = logs.with_message("uncaught exception: temporary failure");
  ASSERT_EQ(uncaught.size(), 1u);
  EXPECT_EQ(uncaught[0].logger, "exception");
}

TEST(TomodachiPolicy, InternalServiceErrorsRequeueTheMessage) {
  TestService service;
  Broker broker;
  int calls = 0;
  broker.subscribe(
      service, "t", "h",
      [&calls](Message&) -> Task<void> {
        if (++calls < 3) throw tomodachi::AmqpInternalServiceErrorException("later");
        co_return;
      },
      with_policy(DeliveryPolicy::tomodachi()));
  broker.publish_payload("t", "x");
  broker.run_until_idle();
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(broker.stats().requeued, 2u);
  EXPECT_EQ(broker.stats().acked, 1u);
}

TEST(TomodachiPolicy, OnlyTheTransportsOwnInternalErrorRequeues) {
  TestService service;
  Broker broker;
  int amqp_calls = 0;
  int sqs_calls = 0;
  // An AMQP handler throwing the SNS/SQS error gets upstream's ordinary-exception outcome.
  broker.subscribe(
      service, "a", "amqp_handler",
      [&amqp_calls](Message&) -> Task<void> {
        ++amqp_calls;
        throw tomodachi::AwsSnsSqsInternalServiceError();
        co_return;
      },
      with_policy(DeliveryPolicy::tomodachi(), "amqp"));
  broker.subscribe(
      service, "s", "sqs_handler",
      [&sqs_calls](Message&) -> Task<void> {
        if (++sqs_calls == 1) throw tomodachi::AwsSnsSqsInternalServiceException();
        co_return;
      },
      with_policy(DeliveryPolicy::tomodachi(), "aws_sns_sqs"));
  broker.publish_payload("a", "x");
  broker.publish_payload("s", "y");
  broker.run_until_idle();
  EXPECT_EQ(amqp_calls, 1);
  EXPECT_EQ(sqs_calls, 2);
  EXPECT_EQ(broker.stats().dropped, 1u);
  EXPECT_EQ(broker.stats().requeued, 1u);
}

TEST(TomodachiPolicy, UnparseableMessagesAreLoggedAndDropped) {
  TestService service;
  service.message_envelope = tomodachi::json_base();
  Broker broker;
  LogCapture logs;
  bool handled = false;
  broker.subscribe(
      service, "t", "h",
      [&handled](Message&) -> Task<void> {
        handled = true;
        co_return;
      },
      with_policy(DeliveryPolicy::tomodachi()));
  broker.publish_payload("t", "[1, 2]");
  broker.run_until_idle();
  EXPECT_FALSE(handled);
  EXPECT_EQ(broker.stats().dropped, 1u);
  EXPECT_EQ(logs.with_message("uncaught exception: JsonBase: payload is JSON array, not an object")
                .size(),
            1u);
  EXPECT_TRUE(broker.messages("test-service.h.dlq").empty());
}

TEST(TomodachiPolicy, AlwaysFailingInternalErrorsKeepComingBack) {
  TestService service;
  Broker broker;
  int calls = 0;
  broker.subscribe(
      service, "t", "h",
      [&calls](Message&) -> Task<void> {
        ++calls;
        throw tomodachi::AmqpInternalServiceError();
        co_return;
      },
      with_policy(DeliveryPolicy::tomodachi()));
  broker.publish_payload("t", "x");
  broker.run_until_idle(1s);  // requeued every 100 ms of virtual time, without limit (upstream)
  EXPECT_EQ(calls, 11);
  EXPECT_EQ(broker.stats().dead_lettered, 0u);
}

}  // namespace
