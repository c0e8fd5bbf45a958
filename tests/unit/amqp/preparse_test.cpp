// Payloads parsed on the I/O thread: the result (or the error) travels with the delivery and
// the messaging core uses it instead of parsing again (IncomingMessage::parsed / parse_error).
#include "amqp/preparse.hpp"

#include <gtest/gtest.h>

namespace rmq = tomodachi::amqp_impl;

namespace {
const std::string payload =
    R"({"service": {"name": "s", "uuid": "u"}, "metadata": {"message_uuid": "u.1", "protocol_version": "tomodachi-json-base--1.0.0", "timestamp": 1.5, "topic": "t", "data_encoding": "raw"}, "data": {"n": 1}})";
}

TEST(Preparse, ParsesWithTheSubscriptionsEnvelope) {
  const auto json_base = std::make_shared<tomodachi::JsonBase>();
  ASSERT_TRUE(rmq::preparsable(json_base));
  const auto preparsed = rmq::preparse(*json_base, payload);
  ASSERT_TRUE(preparsed->parsed);
  EXPECT_FALSE(preparsed->error);
  EXPECT_EQ(preparsed->parsed->message_uuid, "u.1");
  EXPECT_EQ(preparsed->parsed->message.at("data"), (boost::json::value{{"n", 1}}));
}

TEST(Preparse, KeepsTheParseErrorForTheLoop) {
  const auto json_base = std::make_shared<tomodachi::JsonBase>();
  const auto preparsed = rmq::preparse(*json_base, "{not json");
  EXPECT_FALSE(preparsed->parsed);
  ASSERT_TRUE(preparsed->error);
  EXPECT_THROW(std::rethrow_exception(preparsed->error), tomodachi::EnvelopeError);
}

TEST(Preparse, OnlyJsonBaseIsParsedOffTheLoop) {
  EXPECT_FALSE(rmq::preparsable(nullptr));
  EXPECT_FALSE(rmq::preparsable(std::make_shared<tomodachi::ProtobufBase>()));
}
