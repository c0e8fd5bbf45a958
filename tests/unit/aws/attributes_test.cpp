// Message attributes against every case of tests/fixtures/upstream/message_attributes.json:
// outgoing typing (request form and SQS-body form) and incoming decoding of each form.

#include "aws/attributes.hpp"
#include "core/encoding.hpp"
#include "fixture_support.hpp"

#include <gtest/gtest.h>

namespace aws = tomodachi::aws;
namespace json = boost::json;
using aws_test::case_id;
using aws_test::expected_of;
using aws_test::fixture_cases;
using aws_test::same_json;
using tomodachi::Bytes;
using tomodachi::MessageAttributes;

namespace {
const std::string file = "message_attributes.json";

MessageAttributes attributes_from_fixture(const json::object& input) {
  MessageAttributes attributes;
  for (const auto& [name, value] : input) {
    if (value.is_object() && value.as_object().contains("$bytes_b64")) {
      attributes.set(std::string(name), Bytes{*tomodachi::encoding::base64_decode(
                                            value.as_object().at("$bytes_b64").as_string())});
    } else {
      attributes.set(std::string(name), aws_test::untag(value));
    }
  }
  return attributes;
}

// Decoded attributes in the fixture's notation (bytes as {"$bytes_b64": ...}).
json::object to_fixture_json(const MessageAttributes& attributes) {
  json::object out;
  for (const auto& [name, value] : attributes) {
    if (const auto* bytes = std::get_if<Bytes>(&value)) {
      out[name] = json::object{{"$bytes_b64", tomodachi::encoding::base64_encode(bytes->value)}};
    } else {
      out[name] = std::get<json::value>(value);
    }
  }
  return out;
}

// An attribute map in the fixture's notation, with bytes given as base64 text (as the SQS
// JSON protocol and SNS bodies carry them).
json::object wire_input(const json::object& attributes) {
  json::object out;
  for (const auto& [name, entry] : attributes) {
    json::object copy;
    for (const auto& [key, value] : entry.as_object()) {
      if (value.is_object() && value.as_object().contains("$bytes_b64")) {
        copy[key] = value.as_object().at("$bytes_b64");
      } else {
        copy[key] = value;
      }
    }
    out[name] = std::move(copy);
  }
  return out;
}

json::object decode_outcome(const json::object& attributes) {
  try {
    return json::object{{"decoded", to_fixture_json(aws::decode_attributes(attributes))}};
  } catch (const aws::AttributeDecodeError& error) {
    return json::object{{"error", error.what()}};
  }
}

void expect_outcome(const json::object& ours, const json::value& expected,
                    const std::string& where) {
  if (expected.as_object().contains("error")) {
    EXPECT_TRUE(ours.contains("error")) << where << " decoded as " << json::serialize(ours);
  } else {
    ASSERT_TRUE(ours.contains("decoded")) << where << ": " << json::serialize(ours);
    EXPECT_TRUE(same_json(ours.at("decoded"), aws_test::untag(expected.at("decoded"))))
        << where << ": " << json::serialize(ours.at("decoded"))
        << " != " << json::serialize(expected.at("decoded"));
  }
}

}  // namespace

TEST(MessageAttributesFixture, Outgoing) {
  int count = 0;
  for (const std::string kind : {"outgoing_single", "outgoing_dict"}) {
    for (const auto& c : fixture_cases(file, kind)) {
      ++count;
      const auto expected = expected_of(file, c);
      const auto attributes =
          attributes_from_fixture(c.at("input").at("message_attributes").as_object());
      const auto wire = aws::encode_attributes(attributes);

      // The request form (SNS.Publish / SQS.SendMessage), in order.
      const auto& expected_request = expected.at("botocore_message_attributes").as_object();
      ASSERT_EQ(wire.size(), expected_request.size()) << case_id(c);
      std::size_t index = 0;
      for (const auto& [name, entry] : expected_request) {
        const auto& [our_name, ours] = wire[index++];
        EXPECT_EQ(our_name, name) << case_id(c);
        EXPECT_EQ(ours.data_type, entry.at("DataType").as_string()) << case_id(c);
        if (entry.as_object().contains("BinaryValue")) {
          ASSERT_TRUE(ours.binary_value) << case_id(c);
          EXPECT_EQ(tomodachi::encoding::base64_encode(*ours.binary_value),
                    entry.at("BinaryValue").at("$bytes_b64").as_string())
              << case_id(c);
        } else {
          EXPECT_FALSE(ours.binary_value) << case_id(c);
          EXPECT_EQ(ours.string_value, entry.at("StringValue").as_string()) << case_id(c);
        }
      }
      // The SQS direct-send body form: exact strings.
      const auto body = aws::body_attributes(attributes);
      EXPECT_EQ(tomodachi::json::dumps(body),
                tomodachi::json::dumps(expected.at("message_body_metadata")))
          << case_id(c);

      // What a receiver decodes from each form.
      json::object sqs_form;
      json::object sns_form;
      for (const auto& [name, attribute] : wire) {
        const auto value = attribute.binary_value
                               ? tomodachi::encoding::base64_encode(*attribute.binary_value)
                               : attribute.string_value;
        sqs_form[name] =
            json::object{{"DataType", attribute.data_type},
                         {attribute.binary_value ? "BinaryValue" : "StringValue", value}};
        sns_form[name] = json::object{{"Type", attribute.data_type}, {"Value", value}};
      }
      using Form = std::pair<const char*, const json::object*>;
      for (const auto& [key, form] : {Form{"received_via_sqs_attributes", &sqs_form},
                                      Form{"received_via_sns_body_attributes", &sns_form},
                                      Form{"received_via_message_body_metadata", &body},
                                      Form{"round_trip_via_sqs_attributes", &sqs_form},
                                      Form{"round_trip_via_message_body_metadata", &body}}) {
        if (expected.contains(key))
          expect_outcome(decode_outcome(*form), expected.at(key), case_id(c) + " " + key);
      }
    }
  }
  EXPECT_EQ(count, 46);
}

TEST(MessageAttributesFixture, Incoming) {
  const auto cases = fixture_cases(file, "incoming");
  ASSERT_EQ(cases.size(), 20u);
  for (const auto& c : cases) {
    const auto expected = expected_of(file, c);
    const auto input = wire_input(c.at("input").at("message_attributes").as_object());
    expect_outcome(decode_outcome(input), json::value(expected), case_id(c));
  }
}

TEST(MessageAttributes, PythonNumbers) {
  EXPECT_EQ(aws::parse_python_number("42"), json::value(42));
  EXPECT_EQ(aws::parse_python_number(" -7 "), json::value(-7));
  EXPECT_EQ(aws::parse_python_number("1_000"), json::value(1000));
  EXPECT_EQ(aws::parse_python_number("18446744073709551615"), json::value(18446744073709551615ull));
  EXPECT_EQ(aws::parse_python_number("-9223372036854775808"), json::value(INT64_MIN));
  EXPECT_EQ(aws::parse_python_number("1.5e3"), json::value(1500.0));
  EXPECT_EQ(aws::parse_python_number(".5"), json::value(0.5));
  EXPECT_EQ(aws::parse_python_number("1e5"), json::value(100000.0));
  EXPECT_FALSE(aws::parse_python_number("abc"));
  EXPECT_FALSE(aws::parse_python_number("1__0"));
  EXPECT_FALSE(aws::parse_python_number("_1"));
  EXPECT_FALSE(aws::parse_python_number("."));
  EXPECT_FALSE(aws::parse_python_number("1e"));
  EXPECT_FALSE(aws::parse_python_number(""));
}
