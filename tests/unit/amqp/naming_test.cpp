// Routing-key encoding, prefixes and queue names against the upstream vectors of
// tests/fixtures/upstream/amqp_names.json (spec/wire.md §2.3, §2.4).
#include "amqp/naming.hpp"
#include "fixture.hpp"

#include <tomodachi/amqp.hpp>
#include <tomodachi/error.hpp>

#include <gtest/gtest.h>

namespace rmq = tomodachi::amqp_impl;
using amqp_fixture::cases;
using amqp_fixture::str;

TEST(AmqpNaming, EncodeRoutingKeyMatchesEveryUpstreamCase) {
  const auto all = cases("encode_routing_key");
  ASSERT_EQ(all.size(), 28u);
  for (const auto& c : all) {
    SCOPED_TRACE(str(c.at("id")));
    const std::string input = str(c.at("input").at("routing_key"));
    const auto& expected = c.at("expected").as_object();
    const std::string encoded = rmq::encode_routing_key(input);
    EXPECT_EQ(encoded, str(expected.at("encoded")));
    EXPECT_EQ(rmq::decode_routing_key(encoded), str(expected.at("decode_of_encoded")));
    EXPECT_EQ(rmq::decode_routing_key(encoded) == input, expected.at("round_trips").as_bool());
  }
}

TEST(AmqpNaming, DecodeRoutingKeyMatchesEveryUpstreamCase) {
  const auto all = cases("decode_routing_key");
  ASSERT_EQ(all.size(), 16u);
  for (const auto& c : all) {
    SCOPED_TRACE(str(c.at("id")));
    const std::string input = str(c.at("input").at("encoded"));
    const auto& expected = c.at("expected").as_object();
    if (expected.contains("error")) {
      EXPECT_THROW(rmq::decode_routing_key(input), tomodachi::ArgumentError);
    } else {
      EXPECT_EQ(rmq::decode_routing_key(input), str(expected.at("decoded")));
    }
  }
}

TEST(AmqpNaming, RoutingKeyPrefixMatchesEveryUpstreamCase) {
  const auto all = cases("routing_key_with_prefix");
  ASSERT_EQ(all.size(), 11u);
  for (const auto& c : all) {
    SCOPED_TRACE(str(c.at("id")));
    const auto& input = c.at("input").as_object();
    const auto& expected = c.at("expected").as_object();
    const std::string key = str(input.at("routing_key"));
    const std::string option = input.at("option_routing_key_prefix").is_null()
                                   ? ""
                                   : str(input.at("option_routing_key_prefix"));
    std::optional<std::string> override_prefix;
    const auto& argument = input.at("routing_key_prefix_argument");
    if (argument.is_null()) {
      override_prefix = "";  // Python None: no prefix
    } else if (!amqp_fixture::is_unset(argument)) {
      override_prefix = str(argument);
    }
    EXPECT_EQ(rmq::prefixed_routing_key(key, option, override_prefix),
              str(expected.at("prefixed")));
    EXPECT_EQ(rmq::wire_routing_key(key, option, override_prefix),
              str(expected.at("wire_routing_key")));
    EXPECT_EQ(tomodachi::amqp_names::routing_key(key, option, override_prefix),
              str(expected.at("wire_routing_key")));
    EXPECT_EQ(rmq::routing_key_without_prefix(str(expected.at("prefixed")),
                                              override_prefix.value_or(option)),
              str(expected.at("get_routing_key_without_prefix")));
  }
}

TEST(AmqpNaming, QueueNameHelperMatchesEveryUpstreamCase) {
  const auto all = cases("get_queue_name_helper");
  ASSERT_EQ(all.size(), 7u);
  for (const auto& c : all) {
    SCOPED_TRACE(str(c.at("id")));
    const auto& input = c.at("input").as_object();
    const std::string prefix = input.at("option_queue_name_prefix").is_null()
                                   ? ""
                                   : str(input.at("option_queue_name_prefix"));
    std::optional<bool> competing;
    if (!input.at("competing").is_null()) competing = input.at("competing").as_bool();
    const std::string name = rmq::hashed_queue_name(
        str(input.at("encoded_routing_key")), str(input.at("function_name")),
        str(input.at("service_uuid")), rmq::resolve_competing(competing, false), prefix);
    EXPECT_EQ(name, str(c.at("expected").at("queue_name")));
  }
}

TEST(AmqpNaming, SpecQueueNameVectors) {
  const std::string uuid = "5d0b530f-5c44-4981-b01f-342801bd48f5";
  using tomodachi::amqp_names::queue_name;
  EXPECT_EQ(queue_name("test.topic", "func", uuid),
            "b444917b9b922e8c29235737c7775c823e092c2374d1bfde071d42c637e3b4fd");
  EXPECT_EQ(queue_name("test.topic", "func", uuid, false, std::nullopt, "prefix-"),
            "prefix-b444917b9b922e8c29235737c7775c823e092c2374d1bfde071d42c637e3b4fd");
  EXPECT_EQ(queue_name("test.topic", "func2", uuid, true),
            "540e8e5bc604e4ea618f7e0517a04f030ad1dcbff2e121e9466ddd1c811450bf");
  EXPECT_EQ(queue_name("test.topic", "func", uuid, true, std::nullopt, "prefix-"),
            "prefix-540e8e5bc604e4ea618f7e0517a04f030ad1dcbff2e121e9466ddd1c811450bf");
  EXPECT_EQ(queue_name("test.topic", "func", uuid, std::nullopt, "explicit", "p-"), "p-explicit");
}

TEST(AmqpNaming, InvalidUtf8BytesAreEncodedOneByOne) {
  EXPECT_EQ(rmq::encode_routing_key(std::string("a\xff"
                                                "b\xc3",
                                                4)),
            "a___ff_b___c3_");
  EXPECT_EQ(rmq::encode_routing_key(std::string("\xed\xa0\x80", 3)),
            "___ed____a0____80_");  // surrogate
}

TEST(AmqpNaming, XExpires) {
  EXPECT_EQ(rmq::x_expires_ms(86400), 86400000);
  EXPECT_EQ(rmq::x_expires_ms(1.5), 1500);
  EXPECT_EQ(rmq::x_expires_ms(0), std::nullopt);
}
