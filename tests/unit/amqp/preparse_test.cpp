// Payloads parsed on the I/O thread are handed to the messaging core's parse on the loop
// only for the same payload, once, while offered.
#include "amqp/preparse.hpp"

#include <gtest/gtest.h>

namespace rmq = tomodachi::rabbitmq;

namespace {
const std::string payload =
    R"({"service": {"name": "s", "uuid": "u"}, "metadata": {"message_uuid": "u.1", "protocol_version": "tomodachi-json-base--1.0.0", "timestamp": 1.5, "topic": "t", "data_encoding": "raw"}, "data": {"n": 1}})";
}

TEST(Preparse, OfferedResultIsUsedOnceForTheSamePayload) {
  const auto json_base = std::make_shared<tomodachi::JsonBase>();
  ASSERT_TRUE(rmq::preparsable(json_base));
  rmq::PreparsedEnvelope envelope(json_base);
  auto preparsed = rmq::preparse(*json_base, payload);
  preparsed->parsed.message_uuid = "marker";  // tells the offered result from a fresh parse
  preparsed->payload = payload;
  {
    rmq::PreparsedScope offer(preparsed.get());
    EXPECT_EQ(envelope.parse(payload, nullptr).message_uuid, "marker");
    EXPECT_EQ(envelope.parse(payload, nullptr).message_uuid, "u.1");  // taken: parsed again
  }
  auto other = rmq::preparse(*json_base, payload);
  other->parsed.message_uuid = "marker";
  other->payload = payload;
  {
    rmq::PreparsedScope offer(other.get());
    EXPECT_EQ(envelope.parse(R"({"metadata": {"message_uuid": "x"}})", nullptr).message_uuid, "x");  // another payload
  }
  EXPECT_EQ(envelope.parse(payload, nullptr).message_uuid, "u.1");  // the offer ended with its scope
}

TEST(Preparse, ParseErrorsAreRethrownOnTheLoop) {
  const auto json_base = std::make_shared<tomodachi::JsonBase>();
  rmq::PreparsedEnvelope envelope(json_base);
  const std::string broken = "{not json";
  auto preparsed = rmq::preparse(*json_base, broken);
  ASSERT_TRUE(preparsed->error);
  preparsed->payload = broken;
  rmq::PreparsedScope offer(preparsed.get());
  EXPECT_THROW(envelope.parse(broken, nullptr), tomodachi::EnvelopeError);
}

TEST(Preparse, OnlyJsonBaseIsParsedOffTheLoop) {
  EXPECT_FALSE(rmq::preparsable(nullptr));
  EXPECT_FALSE(rmq::preparsable(std::make_shared<tomodachi::ProtobufBase>()));
}
