// tomodachi::Message: values by name, typed data, middleware values.
#include <tomodachi/error.hpp>
#include <tomodachi/message.hpp>

#include <gtest/gtest.h>
#include <boost/describe.hpp>

#include <cstdint>
#include <limits>
#include <map>

#include "person.pb.h"

namespace {

struct Item {
  std::string sku;
  int quantity = 0;
};
BOOST_DESCRIBE_STRUCT(Item, (), (sku, quantity))

struct Order {
  std::string id;
  std::vector<Item> items;
  std::optional<std::string> note;
  double total = 0;
  bool paid = false;
};
BOOST_DESCRIBE_STRUCT(Order, (), (id, items, note, total, paid))

tomodachi::Message json_message(std::string payload, tomodachi::IncomingMessage incoming = {}) {
  incoming.payload = std::move(payload);
  tomodachi::ParsedMessage parsed = tomodachi::JsonBase().parse(incoming.payload, nullptr);
  return tomodachi::Message(std::move(incoming), std::move(parsed),
                            {nullptr, "on_order", {}, 1, false});
}

std::string envelope_with_data(const boost::json::value& data) {
  tomodachi::BuildContext context;
  context.sender.name = "sender";
  context.sender.uuid = "u";
  context.topic = "orders";
  context.uuid4 = "11111111-2222-4333-8444-555555555555";
  context.time = 1.5;
  return tomodachi::JsonBase().build(data, context);
}

TEST(Message, OffersTheEnvelopeValuesByName) {
  tomodachi::IncomingMessage incoming;
  incoming.topic = "orders";
  incoming.transport_values = {
      {"topic", "orders"}, {"receipt_handle", "rh-1"}, {"approximate_receive_count", 2}};
  const auto message = json_message(envelope_with_data({{"id", "A-1"}}), incoming);

  EXPECT_EQ(message.data(), (boost::json::value{{"id", "A-1"}}));
  EXPECT_EQ(message.service(), (boost::json::value{{"name", "sender"}, {"uuid", "u"}}));
  EXPECT_EQ(message.metadata().at("topic"), "orders");
  EXPECT_EQ(message.message_uuid(), "u.11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(message.timestamp(), 1.5);
  EXPECT_EQ(message.get("data"), message.data());
  EXPECT_EQ(message.get("message"), message.parsed());
  EXPECT_EQ(message.get("topic"), "orders");
  EXPECT_EQ(message.receipt_handle(), "rh-1");
  EXPECT_EQ(message.approximate_receive_count(), 2);
  EXPECT_EQ(message.queue_url(), "");
  EXPECT_EQ(message.message_group_id(), std::nullopt);
  EXPECT_TRUE(message.get("no_such_value").is_null());
}

TEST(Message, MessageAttributesByNameAreJsonWithBinaryAsBase64) {
  tomodachi::IncomingMessage incoming;
  incoming.message_attributes =
      tomodachi::MessageAttributes{{"currency", boost::json::value("SEK")},
                                   {"blob", tomodachi::Bytes{std::string("\x00\x01robo", 6)}},
                                   {"list", boost::json::value{1, "two"}}};
  auto message = json_message(envelope_with_data({{"id", "A-1"}}), incoming);
  EXPECT_EQ(message.get("message_attributes"),
            (boost::json::value{{"currency", "SEK"}, {"blob", "AAFyb2Jv"}, {"list", {1, "two"}}}));
  EXPECT_EQ(message.message_attributes().size(), 3u);
  EXPECT_THROW(message.set("message_attributes", 1), tomodachi::ArgumentError);

  const auto amqp = json_message(envelope_with_data({{"id", "A-1"}}));  // no attributes
  EXPECT_TRUE(amqp.get("message_attributes").is_null());
}

TEST(Message, RawModeOffersThePayloadAsData) {
  tomodachi::IncomingMessage incoming;
  incoming.payload = "plain text";
  tomodachi::ParsedMessage parsed;
  parsed.message = "plain text";
  const tomodachi::Message message(std::move(incoming), std::move(parsed),
                                   {nullptr, "h", {}, 1, true});
  EXPECT_EQ(message.data(), "plain text");
  EXPECT_EQ(message.parsed(), "plain text");
  EXPECT_TRUE(message.metadata().is_null());
  EXPECT_EQ(message.message_uuid(), std::nullopt);
  EXPECT_EQ(message.data_as<std::string>(), "plain text");
}

TEST(Message, MessageUuidIsPythonStrOfATruthyValue) {
  const auto with_uuid = [](const char* json) {
    return json_message(std::string(R"({"metadata": {"data_encoding": "raw", "message_uuid": )") +
                        json + "}}")
        .message_uuid();
  };
  EXPECT_EQ(with_uuid(R"("abc")"), "abc");
  EXPECT_EQ(with_uuid("42"), "42");
  EXPECT_EQ(with_uuid("1.5"), "1.5");
  EXPECT_EQ(with_uuid("true"), "True");
  EXPECT_EQ(with_uuid(R"("")"), std::nullopt);
  EXPECT_EQ(with_uuid("0"), std::nullopt);
  EXPECT_EQ(with_uuid("null"), std::nullopt);
}

TEST(Message, DataAsDecodesDescribedStructs) {
  const auto message =
      json_message(envelope_with_data({{"id", "A-1"},
                                       {"items", {{{"sku", "x"}, {"quantity", 2}}}},
                                       {"total", 9},
                                       {"paid", true},
                                       {"extra", 1}}));
  const Order order = message.data_as<Order>();
  EXPECT_EQ(order.id, "A-1");
  ASSERT_EQ(order.items.size(), 1u);
  EXPECT_EQ(order.items[0].sku, "x");
  EXPECT_EQ(order.items[0].quantity, 2);
  EXPECT_EQ(order.note, std::nullopt);
  EXPECT_EQ(order.total, 9.0);
  EXPECT_TRUE(order.paid);
}

TEST(Message, DataAsNamesTheFieldThatDoesNotFit) {
  const auto wrong_type =
      json_message(envelope_with_data({{"id", "A-1"},
                                       {"items", {{{"sku", "x"}, {"quantity", "two"}}}},
                                       {"total", 1},
                                       {"paid", false}}));
  try {
    (void)wrong_type.data_as<Order>();
    FAIL() << "expected DataError";
  } catch (const tomodachi::DataError& e) {
    EXPECT_EQ(e.path(), "items[0].quantity");
    EXPECT_STREQ(e.what(), R"(data.items[0].quantity: expected an integer, got "two")");
  }

  const auto missing = json_message(
      envelope_with_data({{"items", boost::json::array{}}, {"total", 1}, {"paid", false}}));
  try {
    (void)missing.data_as<Order>();
    FAIL() << "expected DataError";
  } catch (const tomodachi::DataError& e) {
    EXPECT_EQ(e.path(), "id");
    EXPECT_STREQ(e.what(), "data.id: missing");
  }

  const auto not_object = json_message(envelope_with_data(boost::json::array{1, 2}));
  EXPECT_THROW((void)not_object.data_as<Order>(), tomodachi::DataError);
  EXPECT_THROW((void)json_message(envelope_with_data(300)).data_as<std::int8_t>(),
               tomodachi::DataError);
  EXPECT_EQ(json_message(envelope_with_data(3.0)).data_as<int>(), 3);
  EXPECT_EQ((json_message(envelope_with_data({1, 2, 3})).data_as<std::vector<int>>()),
            (std::vector<int>{1, 2, 3}));
}

// Doubles at the 64-bit limits: double(INT64_MAX) is 2^63 and double(UINT64_MAX) is 2^64, so a
// bound written with them let these through to an undefined conversion (INT64_MIN / 0).
TEST(Message, DataAsRejectsIntegersBeyondSixtyFourBitsNamingTheField) {
  const auto data = [](const char* json) {
    return json_message(std::string(R"({"metadata": {"data_encoding": "raw"}, "data": {"n": )") +
                        json + "}}");
  };
  const auto expect_rejected = [](const tomodachi::Message& message, auto type, const char* what) {
    try {
      (void)message.data_as<std::map<std::string, decltype(type)>>();
      FAIL() << what << ": converted";
    } catch (const tomodachi::DataError& e) {
      EXPECT_EQ(e.path(), "n") << what;
      EXPECT_NE(std::string(e.what()).find("expected an integer that fits the field"),
                std::string::npos)
          << e.what();
    }
  };
  expect_rejected(data("9223372036854775808.0"), std::int64_t{}, "2^63 as int64");
  expect_rejected(data("18446744073709551616"), std::uint64_t{}, "2^64 (a big integer) as uint64");
  expect_rejected(data("-9223372036854775809"), std::int64_t{}, "-2^63-1 (a big integer) as int64");
  expect_rejected(data("18446744073709551616.0"), std::int64_t{}, "2^64 as int64");
  expect_rejected(data("-9223372036854776832"), std::int64_t{},
                  "-2^63-1024 (rounds to the double -2^63) as int64");
  expect_rejected(data("-1.0"), std::uint64_t{}, "-1.0 as uint64");

  // The largest doubles below the bounds, and the exact integer literals, still convert.
  EXPECT_EQ((data("9223372036854774784.0").data_as<std::map<std::string, std::int64_t>>().at("n")),
            std::int64_t{9223372036854774784});
  EXPECT_EQ((data("9223372036854775808.0").data_as<std::map<std::string, std::uint64_t>>().at("n")),
            std::uint64_t{1} << 63);
  EXPECT_EQ(
      (data("18446744073709549568.0").data_as<std::map<std::string, std::uint64_t>>().at("n")),
      std::uint64_t{18446744073709549568u});
  EXPECT_EQ((data("-9223372036854775808").data_as<std::map<std::string, std::int64_t>>().at("n")),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ((data("18446744073709551615").data_as<std::map<std::string, std::uint64_t>>().at("n")),
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ((data("-2147483648.0").data_as<std::map<std::string, std::int32_t>>().at("n")),
            std::numeric_limits<std::int32_t>::min());
  expect_rejected(data("2147483648.0"), std::int32_t{}, "2^31 as int32");
  // A big integer into a floating-point field: the nearest double, as Python's float(int).
  EXPECT_EQ((data("18446744073709551616").data_as<std::map<std::string, double>>().at("n")),
            18446744073709551616.0);
}

TEST(Message, DataAsDecodesProtobufData) {
  proto::Person person;
  person.set_id("12");
  person.set_name("John Doe");
  const std::string payload = tomodachi::ProtobufBase().build(person, {});

  // Decoded by the subscription's envelope.
  tomodachi::IncomingMessage incoming;
  incoming.payload = payload;
  auto typed = tomodachi::ProtobufBase::of<proto::Person>()->parse(payload, nullptr);
  const tomodachi::Message decoded(incoming, std::move(typed), {nullptr, "h", {}, 1, false});
  EXPECT_EQ(decoded.data_as<proto::Person>().name(), "John Doe");
  EXPECT_TRUE(decoded.data().is_null());

  // Bytes only (no message type on the envelope): decoded on demand.
  auto untyped = tomodachi::ProtobufBase().parse(payload, nullptr);
  const tomodachi::Message bytes(incoming, std::move(untyped), {nullptr, "h", {}, 1, false});
  EXPECT_EQ(bytes.data_as<proto::Person>().id(), "12");
  EXPECT_EQ(*bytes.data_bytes(), person.SerializeAsString());
}

TEST(Message, MiddlewareValuesCannotOverrideTransportOrEnvelopeValues) {
  tomodachi::IncomingMessage incoming;
  incoming.transport_values = {{"receipt_handle", "rh"}};
  auto message = json_message(envelope_with_data(1), incoming);
  message.set("kwarg_abc", 4711);
  EXPECT_EQ(message.get("kwarg_abc"), 4711);
  message.set("kwarg_abc", 4712);
  EXPECT_EQ(message.get("kwarg_abc"), 4712);
  EXPECT_THROW(message.set("receipt_handle", "other"), tomodachi::ArgumentError);
  EXPECT_THROW(message.set("data", 2), tomodachi::ArgumentError);
  EXPECT_THROW(message.set("message_uuid", "x"), tomodachi::ArgumentError);
  EXPECT_EQ(message.get("receipt_handle"), "rh");
  EXPECT_EQ(message.data(), 1);
}

TEST(MiddlewareContext, HoldsJsonAndObjects) {
  tomodachi::MiddlewareContext context;
  context.values["n"] = 1;
  context.set("items", std::vector<int>{1, 2});
  ASSERT_NE(context.get<std::vector<int>>("items"), nullptr);
  EXPECT_EQ(context.get<std::vector<int>>("items")->size(), 2u);
  EXPECT_EQ(context.get<int>("items"), nullptr);
  EXPECT_EQ(context.get<int>("missing"), nullptr);
}

}  // namespace
