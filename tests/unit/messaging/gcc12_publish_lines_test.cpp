// The exact publish lines of issue 13 item 4 compile under GCC 12 and publish (through the
// in-memory broker): `co_await tomodachi::amqp_publish(*this, boost::json::object{{"k",
// "v"}}, "key");` and the same with aws_sns_sqs_publish and sqs_send_message
// (include/tomodachi/detail/gcc12_publish.hpp, docs/services.md "GCC 12 coroutine traps").

#include <tomodachi/testing.hpp>
#include <tomodachi/tomodachi.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using tomodachi::Message;
using tomodachi::Task;

class Publisher : public messaging_test::TestService {
 public:
  Publisher() : TestService("publisher") { message_envelope = tomodachi::json_base(); }

  Task<void> go(Message&) {
    co_await tomodachi::amqp_publish(*this, boost::json::object{{"k", "v"}}, "key");
    co_await tomodachi::aws_sns_sqs_publish(*this, boost::json::object{{"k", "v"}}, "key");
    co_await tomodachi::sqs_send_message(*this, boost::json::object{{"k", "v"}}, "key");
    // A temporary routing key and options in the call, as without the work-around.
    co_await tomodachi::amqp_publish(*this, {{"k", "t"}}, std::string("key.") + "temporary",
                                     {.routing_key_prefix = std::string("")});
  }
};

class Receiver : public messaging_test::TestService {
 public:
  Receiver() : TestService("receiver") { message_envelope = tomodachi::json_base(); }
  Task<void> on_key(Message& message) {
    received.push_back(message.data());
    co_return;
  }
  std::vector<boost::json::value> received;
};

TEST(Gcc12PublishLines, BracedJsonObjectsInCoAwaitedPublishCallsCompileAndPublish) {
  tomodachi::testing::Broker broker;
  broker.intercept_publishing();
  Publisher publisher;
  Receiver receiver;
  broker.subscribe<&Publisher::go>(publisher, "go");
  broker.subscribe<&Receiver::on_key>(receiver, "key.#");
  broker.publish(publisher, {{"go", 1}}, "go");
  broker.run_until_idle();
  const boost::json::value v{{"k", "v"}};
  const boost::json::value t{{"k", "t"}};
  // amqp_publish and aws_sns_sqs_publish to "key", the temporary-key publish to "key.temporary"
  EXPECT_EQ(receiver.received, (std::vector<boost::json::value>{v, v, t}));
  // sqs_send_message to queue "key"
  EXPECT_EQ(broker.messages("key").size(), 1u);
}

}  // namespace
