// Deliveries and consumers of the I/O thread (src/amqp/deliveries.hpp, consumers.hpp,
// topology_runner.hpp) fed with the frames rabbitmq-c decodes, without a broker.
#include "amqp/deliveries.hpp"
#include "amqp/consumers.hpp"
#include "amqp/methods.hpp"
#include "amqp/reconnect_policy.hpp"
#include "amqp/topology_runner.hpp"

#include "io_parts_fixture.hpp"

#include <amqp_framing.h>

#include <gtest/gtest.h>

#include <memory>

using namespace amqp_parts;
using namespace std::chrono_literals;

namespace {

struct Consuming : Parts {
  Consuming() {
    *sink = [this](std::vector<amqp::Delivery>& batch) {
      ++batches;
      for (auto& d : batch) received.push_back(std::move(d));
    };
  }

  void deliver(amqp_channel_t channel, const char* consumer_tag, std::uint64_t tag,
               const std::string& body, const amqp_basic_properties_t& properties) {
    amqp_basic_deliver_t method_struct{};
    method_struct.consumer_tag = amqp_cstring_bytes(consumer_tag);
    method_struct.delivery_tag = tag;
    method_struct.redelivered = 1;
    method_struct.exchange = amqp_cstring_bytes("amq.topic");
    method_struct.routing_key = amqp_cstring_bytes("order.created");
    const amqp_method_t method{AMQP_BASIC_DELIVER_METHOD, &method_struct};
    deliveries.start(channel, method, 4);

    amqp_frame_t header{};
    header.frame_type = AMQP_FRAME_HEADER;
    header.channel = channel;
    header.payload.properties.class_id = AMQP_BASIC_CLASS;
    header.payload.properties.body_size = body.size();
    header.payload.properties.decoded = const_cast<amqp_basic_properties_t*>(&properties);
    deliveries.content(header);
    // The body in two frames, as a frame_max smaller than the message would split it.
    const std::size_t half = body.size() / 2;
    for (const auto& part : {body.substr(0, half), body.substr(half)}) {
      if (part.empty()) continue;
      amqp_frame_t frame{};
      frame.frame_type = AMQP_FRAME_BODY;
      frame.channel = channel;
      frame.payload.body_fragment.bytes = const_cast<char*>(part.data());
      frame.payload.body_fragment.len = part.size();
      deliveries.content(frame);
    }
  }

  std::shared_ptr<amqp::Connection::DeliverySink> sink =
      std::make_shared<amqp::Connection::DeliverySink>();
  amqp::ReconnectPolicy policy{100ms, 3000ms};
  amqp::Consumers consumers{shared, link};
  amqp::TopologyRunner topology{shared, link, consumers, policy};
  amqp::Deliveries deliveries{shared, link, consumers, sink};
  std::vector<amqp::Delivery> received;
  int batches = 0;
};

amqp_basic_properties_t json_properties() {
  amqp_basic_properties_t properties{};
  properties._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
  properties.content_type = amqp_cstring_bytes("application/json");
  properties.delivery_mode = 2;
  return properties;
}

}  // namespace

TEST(Deliveries, FramesOfTheConsumerChannelBecomeDeliveriesHandedOverInOneBatch) {
  Consuming c;
  ASSERT_TRUE(c.consumers.started(7, "ctag-7"));
  EXPECT_EQ(c.consumers.consumer_of("ctag-7"), 7u);
  c.shared.preprocessor = [](amqp::Delivery& d) { d.preparsed = std::make_shared<int>(42); };
  c.deliver(amqp::consumer_channel, "ctag-7", 11, R"({"id": 4711})", json_properties());
  c.deliver(amqp::consumer_channel, "ctag-7", 12, "", amqp_basic_properties_t{});
  // A returned message's content on the publish channel is no delivery.
  c.deliver(amqp::publish_channel, "ctag-7", 13, "returned", amqp_basic_properties_t{});
  EXPECT_TRUE(c.received.empty());
  c.deliveries.flush();
  c.run_loop();

  ASSERT_EQ(c.received.size(), 2u);
  EXPECT_EQ(c.batches, 1);
  const auto& first = c.received[0];
  EXPECT_EQ(first.epoch, 4u);
  EXPECT_EQ(first.delivery_tag, 11u);
  EXPECT_EQ(first.consumer_id, 7u);
  EXPECT_TRUE(first.redelivered);
  EXPECT_EQ(first.exchange, "amq.topic");
  EXPECT_EQ(first.routing_key, "order.created");
  EXPECT_EQ(first.body, R"({"id": 4711})");
  EXPECT_EQ(first.properties.content_type, "application/json");
  EXPECT_EQ(first.properties.delivery_mode, 2);
  ASSERT_TRUE(first.preparsed);
  EXPECT_EQ(*std::static_pointer_cast<int>(first.preparsed), 42);
  EXPECT_EQ(c.received[1].delivery_tag, 12u);  // an empty body ends with its header
  EXPECT_EQ(c.received[1].body, "");
  EXPECT_EQ(c.shared.deliveries.load(), 2u);
  EXPECT_TRUE(c.lost.empty());
}

TEST(Deliveries, ABatchPostedAfterTheConnectionWentAwayIsDropped) {
  auto c = std::make_unique<Consuming>();
  ASSERT_TRUE(c->consumers.started(1, "t"));
  c->deliver(amqp::consumer_channel, "t", 1, "x", amqp_basic_properties_t{});
  c->deliveries.flush();
  int calls = 0;
  *c->sink = [&calls](std::vector<amqp::Delivery>&) { ++calls; };
  c->sink.reset();  // the Connection (the sink's owner) is gone before the loop runs
  c->run_loop();
  EXPECT_EQ(calls, 0);
}

TEST(Consumers, ACancelWithNothingConsumingCompletesAtOnce) {
  Consuming c;
  std::string outcome = "(not completed)";
  c.consumers.cancel({3},
                     amqp::VoidHandler([&](std::exception_ptr e) { outcome = message_of(e); }));
  c.run_loop();
  EXPECT_EQ(outcome, "(ok)");
}

TEST(Consumers, TheBrokersCancelForgetsTheTag) {
  Consuming c;
  ASSERT_TRUE(c.consumers.started(5, "ctag-5"));
  EXPECT_EQ(c.consumers.broker_cancelled("ctag-5"), 5u);
  EXPECT_EQ(c.consumers.consumer_of("ctag-5"), 0u);
  EXPECT_FALSE(c.consumers.broker_cancelled("ctag-5").has_value());
}

TEST(TopologyRunner, ACancelledConsumerNeverStartsAndOtherStepsWaitForTheConnection) {
  Consuming c;
  std::vector<std::string> outcomes(3, "(waiting)");
  const auto handler = [&](std::size_t i) {
    return amqp::StepHandler(
        [&outcomes, i](std::exception_ptr e, amqp::StepResult) { outcomes[i] = message_of(e); });
  };
  c.topology.add(amqp::QueueDeclareStep{"q"}, handler(0));
  c.topology.add(amqp::ConsumeStep{"q", 9}, handler(1));
  c.topology.add(amqp::ConsumeStep{"q", 10}, handler(2));
  c.topology.pump();  // not connected: nothing goes out
  c.topology.forget_consumers({9});
  c.run_loop();
  EXPECT_EQ(outcomes,
            (std::vector<std::string>{"(waiting)", "the consumer was cancelled before it started",
                                      "(waiting)"}));
  c.topology.connection_lost();  // the loop's steps survive a lost connection
  c.topology.close(
      std::make_exception_ptr(tomodachi::AmqpConnectionException("the AMQP connection is closed")));
  c.run_loop();
  EXPECT_EQ(outcomes[0], "the AMQP connection is closed");
  EXPECT_EQ(outcomes[2], "the AMQP connection is closed");
}
