// SNS/SQS services unit-tested without AWS: the in-memory broker of tomodachi::testing
// serves `aws_sns_sqs` registrations and captures `aws_sns_sqs_publish` / `sqs_send_message`.

#include <tomodachi/aws_sns_sqs.hpp>
#include <tomodachi/testing.hpp>

#include <gtest/gtest.h>

namespace {

class Forwarder : public tomodachi::Service {
 public:
  Forwarder() : Service("forwarder") {
    message_envelope = tomodachi::json_base();
    aws_sns_sqs<&Forwarder::on_order>("order-created", {.competing = true});
    aws_sns_sqs<&Forwarder::on_accepted>("order-accepted", {.competing = true});
  }
  std::vector<boost::json::value> accepted;

 private:
  tomodachi::Task<void> on_order(tomodachi::Message& message) {
    tomodachi::MessageAttributes attributes{{"currency", "SEK"}};
    co_await tomodachi::aws_sns_sqs_publish(*this, message.data(), "order-accepted",
                                            {.message_attributes = &attributes});
  }
  tomodachi::Task<void> on_accepted(tomodachi::Message& message) {
    accepted.push_back(message.data());
    EXPECT_EQ(message.message_attributes().json("currency"), "SEK");
    co_return;
  }
};

}  // namespace

TEST(AwsSnsSqsInMemory, PublishFromAHandlerReachesTheOtherSubscription) {
  tomodachi::testing::Broker broker;
  Forwarder service;
  broker.attach(service);
  broker.intercept_publishing();
  const boost::json::object order{{"id", "A-1"}};
  broker.publish(service, order, "order-created");
  broker.run_until_idle();
  ASSERT_EQ(service.accepted.size(), 1u);
  EXPECT_EQ(service.accepted[0], order);
}
