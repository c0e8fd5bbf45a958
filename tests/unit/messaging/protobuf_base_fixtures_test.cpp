// Every case of tests/fixtures/upstream/protobuf_base.json (produced by Python tomodachi).
#include <tomodachi/envelope.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/json.hpp>

#include "core/encoding.hpp"
#include "fixture_support.hpp"
#include "person.pb.h"

#include <gtest/gtest.h>

namespace {

using fixtures::build_context;
using fixtures::Case;
using fixtures::materialize;
using fixtures::same;

constexpr const char* fixture_file = "upstream/protobuf_base.json";

std::string b64(const boost::json::value& value) {
  return *tomodachi::encoding::base64_decode(value.as_string());
}

// A text or byte string given inline, as `$gen`, `$bytes_b64`, or by its SHA-256.
void expect_bytes(const std::string& actual, const boost::json::value& expected) {
  if (expected.is_object() && (expected.as_object().contains("$string_sha256") ||
                               expected.as_object().contains("$bytes_sha256"))) {
    const auto& tag = expected.as_object();
    const auto& sha =
        tag.contains("$string_sha256") ? tag.at("$string_sha256") : tag.at("$bytes_sha256");
    EXPECT_EQ(tomodachi::encoding::sha256_hex(actual), sha.as_string());
    // `length` counts characters for text, bytes for byte strings.
    std::size_t length = actual.size();
    if (tag.contains("$string_sha256")) {
      length = 0;
      for (const char c : actual) length += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    }
    EXPECT_EQ(length, tag.at("length").to_number<std::size_t>());
  } else if (expected.is_object() && expected.as_object().contains("$bytes_b64")) {
    EXPECT_EQ(actual, b64(expected.as_object().at("$bytes_b64")));
  } else {
    EXPECT_EQ(actual, materialize(expected).as_string());
  }
}

// `{"message": {...}, "message_uuid", "timestamp"}` or `{"error": ...}`; `data` is a
// `$bytes_b64` or a `$proto` tag.
void expect_parse(const tomodachi::Envelope& envelope, const std::string& payload,
                  const boost::json::object& expected) {
  if (expected.contains("error")) {
    EXPECT_THROW(envelope.parse(payload, nullptr), tomodachi::EnvelopeError)
        << expected.at("error");
    return;
  }
  const tomodachi::ParsedMessage parsed = envelope.parse(payload, nullptr);
  boost::json::object expected_message = expected.at("message").as_object();
  const boost::json::object expected_data = expected_message.at("data").as_object();
  expected_message["data"] = nullptr;
  EXPECT_TRUE(same(parsed.message, expected_message)) << tomodachi::json::dumps(parsed.message);
  EXPECT_TRUE(same(parsed.message_uuid, expected.at("message_uuid")));
  EXPECT_TRUE(same(parsed.timestamp, expected.at("timestamp")));

  if (!expected_data.contains("$proto")) {
    ASSERT_TRUE(parsed.data_bytes.has_value());
    expect_bytes(*parsed.data_bytes, expected_data);
    EXPECT_EQ(parsed.data_proto, nullptr);
    return;
  }
  ASSERT_EQ(expected_data.at("$proto").as_string(), "proto.Person");
  ASSERT_NE(parsed.data_proto, nullptr);
  const auto* person = dynamic_cast<const proto::Person*>(parsed.data_proto.get());
  ASSERT_NE(person, nullptr);
  const auto& fields = expected_data.at("fields").as_object();
  expect_bytes(person->id(), fields.at("id"));
  expect_bytes(person->name(), fields.at("name"));
  if (expected_data.contains("serialized_b64")) {
    EXPECT_EQ(person->SerializeAsString(), b64(expected_data.at("serialized_b64")));
  } else {
    EXPECT_EQ(tomodachi::encoding::sha256_hex(person->SerializeAsString()),
              expected_data.at("serialized_sha256").as_string());
  }
  EXPECT_EQ(parsed.data_bytes.value_or("<none>"), person->SerializeAsString());
}

class ProtobufBaseBuild : public ::testing::TestWithParam<Case> {};

TEST_P(ProtobufBaseBuild, ReproducesUpstream) {
  const auto& input = GetParam().data.at("input").as_object();
  const auto& expected = GetParam().data.at("expected").as_object();
  ASSERT_TRUE(fixtures::deliberate_difference(fixture_file, GetParam().id).empty());

  const auto& data = input.at("data").as_object();
  ASSERT_EQ(data.at("type").as_string(), "proto.Person");
  proto::Person person;
  person.set_id(std::string(materialize(data.at("fields").as_object().at("id")).as_string()));
  person.set_name(std::string(materialize(data.at("fields").as_object().at("name")).as_string()));
  const std::string inner = person.SerializeAsString();
  EXPECT_EQ(inner.size(), data.at("serialized_length").to_number<std::size_t>());
  if (data.contains("serialized_b64")) {
    EXPECT_EQ(inner, b64(data.at("serialized_b64")));
  }

  const tomodachi::ProtobufBase envelope;
  const std::string payload = envelope.build(person, build_context(input));
  EXPECT_EQ(payload.size(), expected.at("payload_length").to_number<std::size_t>());
  EXPECT_EQ(tomodachi::encoding::sha256_hex(payload), expected.at("payload_sha256").as_string());
  if (expected.contains("payload")) {
    EXPECT_EQ(payload, expected.at("payload").as_string());
  } else {
    const std::string head(expected.at("payload_head").as_string());
    EXPECT_EQ(payload.substr(0, head.size()), head);
  }

  // The outer fields, decoded by parsing without a message type.
  const auto& outer = expected.at("outer").as_object();
  const tomodachi::ParsedMessage raw = envelope.parse(payload, nullptr);
  EXPECT_TRUE(same(raw.message.at("service"), outer.at("service")));
  EXPECT_TRUE(same(raw.message.at("metadata"), outer.at("metadata")));
  ASSERT_TRUE(raw.data_bytes.has_value());
  EXPECT_EQ(raw.data_bytes->size(), outer.at("data_length").to_number<std::size_t>());
  EXPECT_EQ(tomodachi::encoding::sha256_hex(*raw.data_bytes), outer.at("data_sha256").as_string());
  if (outer.contains("data_zlib_header_hex")) {
    EXPECT_EQ(tomodachi::encoding::hex_lower(raw.data_bytes->substr(0, 2)),
              outer.at("data_zlib_header_hex").as_string());
    EXPECT_EQ(*tomodachi::encoding::zlib_decompress(*raw.data_bytes, 1 << 24), inner);
  }

  expect_parse(envelope, payload, expected.at("parse_without_proto_class").as_object());
  expect_parse(*tomodachi::ProtobufBase::of<proto::Person>(), payload,
               expected.at("parse_with_proto_class").as_object());
}

class ProtobufBaseParse : public ::testing::TestWithParam<Case> {};

TEST_P(ProtobufBaseParse, ReproducesUpstream) {
  const auto& input = GetParam().data.at("input").as_object();
  const auto& expected = GetParam().data.at("expected").as_object();
  ASSERT_TRUE(fixtures::deliberate_difference(fixture_file, GetParam().id).empty());
  const std::string payload(input.at("payload").as_string());
  expect_parse(tomodachi::ProtobufBase(), payload,
               expected.at("parse_without_proto_class").as_object());
  expect_parse(*tomodachi::ProtobufBase::of<proto::Person>(), payload,
               expected.at("parse_with_proto_class").as_object());
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return fixtures::test_name(info.param.id);
}

INSTANTIATE_TEST_SUITE_P(Upstream, ProtobufBaseBuild,
                         ::testing::ValuesIn(fixtures::cases(fixture_file, "build")), case_name);
INSTANTIATE_TEST_SUITE_P(Upstream, ProtobufBaseParse,
                         ::testing::ValuesIn(fixtures::cases(fixture_file, "parse")), case_name);

TEST(ProtobufBaseFixtures, CoverEveryCase) {
  const auto all = fixtures::load(fixture_file);
  EXPECT_EQ(
      fixtures::cases(fixture_file, "build").size() + fixtures::cases(fixture_file, "parse").size(),
      all.at("cases").as_array().size());
}

TEST(ProtobufBase, SubscriptionsNeedTheMessageType) {
  EXPECT_THROW(tomodachi::ProtobufBase().validate(), tomodachi::ArgumentError);
  EXPECT_NO_THROW(tomodachi::ProtobufBase::of<proto::Person>()->validate());
  EXPECT_EQ(tomodachi::ProtobufBase::of<proto::Person>()->type_name(), "proto.Person");
}

TEST(ProtobufBase, ValidatorFailureFailsTheParse) {
  proto::Person person;
  person.set_id("12");
  const std::string payload = tomodachi::ProtobufBase().build(person, {});
  const auto strict = tomodachi::ProtobufBase::of<proto::Person>([](const proto::Person& p) {
    if (p.name().empty()) throw std::invalid_argument("name is required");
  });
  EXPECT_THROW(strict->parse(payload, nullptr), std::invalid_argument);
  person.set_name("John Doe");
  EXPECT_NO_THROW(strict->parse(tomodachi::ProtobufBase().build(person, {}), nullptr));
}

TEST(ProtobufBase, RejectsJsonData) {
  EXPECT_THROW(tomodachi::ProtobufBase().build(boost::json::value{{"a", 1}}, {}),
               tomodachi::EnvelopeError);
  proto::Person person;
  EXPECT_THROW(tomodachi::JsonBase().build(person, {}), tomodachi::EnvelopeError);
}

}  // namespace
