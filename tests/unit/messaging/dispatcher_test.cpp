// MessageDispatcher with a payload the transport parsed already (IncomingMessage::parsed /
// parse_error): the core uses it and does not parse again.
#include <tomodachi/transport/messaging.hpp>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>
#include <stdexcept>

#include "test_support.hpp"

namespace {

using tomodachi::DeliveryOutcome;
using tomodachi::Message;
using tomodachi::Task;

// JsonBase that counts its parses.
class CountingEnvelope final : public tomodachi::Envelope {
 public:
  std::string_view name() const noexcept override { return "CountingEnvelope"; }
  std::string build(const tomodachi::PublishData& data,
                    const tomodachi::BuildContext& context) const override {
    return tomodachi::JsonBase().build(data, context);
  }
  tomodachi::ParsedMessage parse(std::string_view payload,
                                 const tomodachi::MessageAttributes* attributes) const override {
    ++parses;
    return tomodachi::JsonBase().parse(payload, attributes);
  }
  mutable int parses = 0;
};

class RecordingDelivery final : public tomodachi::Delivery {
 public:
  int attempt() const override { return 1; }
  Task<void> ack() override {
    settled = "ack";
    co_return;
  }
  Task<void> requeue() override {
    settled = "requeue";
    co_return;
  }
  Task<void> retry_later(std::chrono::milliseconds) override {
    settled = "retry";
    co_return;
  }
  Task<void> dead_letter(const tomodachi::DeadLetter& letter) override {
    settled = "dead_letter";
    error = letter.error;
    co_return;
  }
  std::string settled;
  std::string error;
};

const std::string payload =
    R"({"service": {"name": "s", "uuid": "u"}, "metadata": {"message_uuid": "u.1", "data_encoding": "raw"}, "data": "from the payload"})";

struct Harness {
  std::shared_ptr<CountingEnvelope> envelope = std::make_shared<CountingEnvelope>();
  tomodachi::DuplicateRegistry duplicates;
  std::vector<std::string> seen;
  std::optional<tomodachi::MessageDispatcher> dispatcher;

  Harness() {
    tomodachi::SubscriptionConfig config;
    config.handler_name = "handler";
    config.envelope = envelope;
    config.duplicates = &duplicates;
    config.handler = [this](Message& message) -> Task<void> {
      seen.push_back(std::string(message.data().as_string()));
      co_return;
    };
    dispatcher.emplace(std::move(config));
  }

  DeliveryOutcome dispatch(tomodachi::IncomingMessage incoming, RecordingDelivery& delivery) {
    boost::asio::io_context loop;
    std::optional<DeliveryOutcome> outcome;
    boost::asio::co_spawn(loop, dispatcher->dispatch(std::move(incoming), delivery),
                          [&outcome](std::exception_ptr error, DeliveryOutcome result) {
                            if (error) std::rethrow_exception(error);
                            outcome = result;
                          });
    loop.run();
    return outcome.value();
  }
};

TEST(Dispatcher, UsesAPayloadTheTransportParsedAlready) {
  Harness harness;
  tomodachi::IncomingMessage incoming;
  incoming.payload = payload;
  tomodachi::ParsedMessage parsed = tomodachi::JsonBase().parse(payload, nullptr);
  parsed.message.as_object()["data"] = "parsed off the loop";
  incoming.parsed.emplace(std::move(parsed));
  RecordingDelivery delivery;
  EXPECT_EQ(harness.dispatch(std::move(incoming), delivery), DeliveryOutcome::acked);
  EXPECT_EQ(harness.seen, (std::vector<std::string>{"parsed off the loop"}));
  EXPECT_EQ(harness.envelope->parses, 0);
  EXPECT_EQ(delivery.settled, "ack");
}

TEST(Dispatcher, APreParseErrorIsSettledLikeItsOwn) {
  messaging_test::LogCapture logs;
  Harness harness;
  tomodachi::IncomingMessage incoming;
  incoming.payload = payload;
  incoming.parse_error =
      std::make_exception_ptr(tomodachi::EnvelopeError("JsonBase: payload is not valid JSON"));
  RecordingDelivery delivery;
  EXPECT_EQ(harness.dispatch(std::move(incoming), delivery), DeliveryOutcome::dead_lettered);
  EXPECT_TRUE(harness.seen.empty());
  EXPECT_EQ(harness.envelope->parses, 0);
  EXPECT_EQ(delivery.error, "JsonBase: payload is not valid JSON");
  ASSERT_EQ(logs.with_message("unparseable message: dead-lettering it").size(), 1u);
  EXPECT_EQ(*logs.with_message("unparseable message")[0].field("envelope"), "CountingEnvelope");
}

TEST(Dispatcher, ParsesThePayloadItselfOtherwise) {
  Harness harness;
  tomodachi::IncomingMessage incoming;
  incoming.payload = payload;
  RecordingDelivery delivery;
  EXPECT_EQ(harness.dispatch(std::move(incoming), delivery), DeliveryOutcome::acked);
  EXPECT_EQ(harness.seen, (std::vector<std::string>{"from the payload"}));
  EXPECT_EQ(harness.envelope->parses, 1);
}

TEST(Dispatcher, TheTransportsInstrumentRunsAroundMiddlewareAndHandler) {
  Harness harness;
  std::vector<std::string> order;
  tomodachi::SubscriptionConfig config;
  config.handler_name = "handler";
  config.envelope = harness.envelope;
  config.duplicates = &harness.duplicates;
  config.middleware.push_back([&order](Message&, tomodachi::MiddlewareContext&,
                                       const tomodachi::MessageNext& next) -> Task<void> {
    order.push_back("middleware");
    co_await next();
  });
  config.handler = [&order](Message& message) -> Task<void> {
    order.push_back("handler " + std::string(message.data().as_string()));
    co_return;
  };
  config.instrument = [&order](Message& message, Task<void> chain) -> Task<void> {
    order.push_back("instrument " + message.handler_name());
    co_await std::move(chain);
    order.push_back("instrument end");
  };
  harness.dispatcher.emplace(std::move(config));
  RecordingDelivery delivery;
  tomodachi::IncomingMessage incoming;
  incoming.payload = payload;
  EXPECT_EQ(harness.dispatch(std::move(incoming), delivery), DeliveryOutcome::acked);
  EXPECT_EQ(order, (std::vector<std::string>{"instrument handler", "middleware",
                                             "handler from the payload", "instrument end"}));
  // Parse failures and duplicates are settled before the chain: no instrument.
  order.clear();
  RecordingDelivery again;
  tomodachi::IncomingMessage duplicate;
  duplicate.payload = payload;
  EXPECT_EQ(harness.dispatch(std::move(duplicate), again), DeliveryOutcome::acked);
  tomodachi::IncomingMessage broken;
  broken.payload = "not json";
  RecordingDelivery dead;
  EXPECT_EQ(harness.dispatch(std::move(broken), dead), DeliveryOutcome::dead_lettered);
  EXPECT_TRUE(order.empty());
}

}  // namespace
