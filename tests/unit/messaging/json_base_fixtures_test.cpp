// Every case of tests/fixtures/upstream/json_base.json (produced by Python tomodachi),
// except where tests/fixtures/deliberate_differences/messaging.json records our result.
#include <tomodachi/envelope.hpp>
#include <tomodachi/json.hpp>

#include "core/encoding.hpp"
#include "fixture_support.hpp"

#include <gtest/gtest.h>

namespace {

using fixtures::build_context;
using fixtures::Case;
using fixtures::materialize;
using fixtures::same;

constexpr const char* fixture_file = "upstream/json_base.json";

// Expected parse result: {"message", "message_uuid", "timestamp"} with tags expanded.
// Large cases carry `data_python_json_sha256` inside `message` (the SHA-256 of the
// decoded data's Python JSON) besides the `$gen` description of the data.
void expect_parse_result(const tomodachi::ParsedMessage& actual,
                         const boost::json::object& expected) {
  boost::json::value expected_message = materialize(expected.at("message"));
  if (expected_message.as_object().contains("data_python_json_sha256")) {
    const std::string sha(expected_message.as_object().at("data_python_json_sha256").as_string());
    expected_message.as_object().erase("data_python_json_sha256");
    EXPECT_EQ(tomodachi::encoding::sha256_hex(tomodachi::json::dumps(actual.message.at("data"))),
              sha);
  }
  EXPECT_TRUE(same(actual.message, expected_message))
      << "message\n  ours:     " << tomodachi::json::dumps(actual.message).substr(0, 2000)
      << "\n  upstream: " << tomodachi::json::dumps(expected_message).substr(0, 2000);
  EXPECT_TRUE(same(actual.message_uuid, materialize(expected.at("message_uuid"))))
      << tomodachi::json::dumps(actual.message_uuid);
  EXPECT_TRUE(same(actual.timestamp, materialize(expected.at("timestamp"))))
      << tomodachi::json::dumps(actual.timestamp);
  EXPECT_FALSE(actual.data_bytes.has_value());
}

class JsonBaseBuild : public ::testing::TestWithParam<Case> {};

TEST_P(JsonBaseBuild, ReproducesUpstream) {
  const auto& input = GetParam().data.at("input").as_object();
  boost::json::object expected = GetParam().data.at("expected").as_object();
  const boost::json::object difference =
      fixtures::deliberate_difference(fixture_file, GetParam().id);
  if (!difference.empty()) {
    for (const auto& [key, value] : difference.at("ours").as_object()) expected[key] = value;
  }

  const boost::json::value data = materialize(input.at("data"));
  const tomodachi::JsonBase envelope;
  const std::string payload = envelope.build(data, build_context(input));

  // The text whose character count decides compression.
  const std::string data_json = tomodachi::json::dumps(data);
  EXPECT_EQ(data_json.size(), expected.at("data_python_json_length").to_number<std::size_t>());
  EXPECT_EQ(tomodachi::encoding::sha256_hex(data_json),
            expected.at("data_python_json_sha256").as_string());
  if (expected.contains("data_python_json")) {
    EXPECT_EQ(data_json, expected.at("data_python_json").as_string());
  }

  // The payload, byte for byte.
  EXPECT_EQ(payload.size(), expected.at("payload_length").to_number<std::size_t>());
  EXPECT_EQ(tomodachi::encoding::sha256_hex(payload), expected.at("payload_sha256").as_string());
  if (expected.contains("payload")) {
    EXPECT_EQ(payload, expected.at("payload").as_string());
  } else {
    const std::string head(expected.at("payload_head").as_string());
    const std::string tail(expected.at("payload_tail").as_string());
    EXPECT_EQ(payload.substr(0, head.size()), head);
    EXPECT_EQ(payload.substr(payload.size() - std::min(payload.size(), tail.size())), tail);
  }

  // Key orders and the encoding decision, read back from our payload.
  const boost::json::value document = tomodachi::json::loads(payload);
  std::vector<std::string> keys;
  for (const auto& [key, value] : document.as_object()) keys.emplace_back(key);
  std::vector<std::string> expected_keys;
  for (const auto& key : expected.at("envelope_key_order").as_array())
    expected_keys.emplace_back(key.as_string());
  EXPECT_EQ(keys, expected_keys);
  keys.clear();
  expected_keys.clear();
  for (const auto& [key, value] : document.at("metadata").as_object()) keys.emplace_back(key);
  for (const auto& key : expected.at("metadata_key_order").as_array())
    expected_keys.emplace_back(key.as_string());
  EXPECT_EQ(keys, expected_keys);
  const auto& metadata = document.at("metadata").as_object();
  EXPECT_EQ(metadata.at("data_encoding").as_string(), expected.at("data_encoding").as_string());
  EXPECT_EQ(metadata.at("message_uuid").as_string(), expected.at("message_uuid").as_string());
  EXPECT_TRUE(same(metadata.at("timestamp"), expected.at("timestamp")));

  if (expected.contains("compressed")) {
    const auto& compressed = expected.at("compressed").as_object();
    const std::string field(document.at("data").as_string());
    EXPECT_EQ(field.size(), compressed.at("data_field_length").to_number<std::size_t>());
    EXPECT_EQ(tomodachi::encoding::sha256_hex(field),
              compressed.at("data_field_sha256").as_string());
    const std::string zlib_bytes = *tomodachi::encoding::base64_decode(field);
    EXPECT_EQ(tomodachi::encoding::hex_lower(zlib_bytes.substr(0, 2)),
              compressed.at("zlib_header_hex").as_string());
    EXPECT_EQ(*tomodachi::encoding::zlib_decompress(zlib_bytes, 1 << 24), data_json);
  }

  // parse_message(payload) gives upstream's result.
  const tomodachi::ParsedMessage parsed = envelope.parse(payload, nullptr);
  const auto& expected_parse = expected.at("parse_result").as_object();
  expect_parse_result(parsed, expected_parse);
}

class JsonBaseParse : public ::testing::TestWithParam<Case> {};

TEST_P(JsonBaseParse, ReproducesUpstream) {
  const auto& input = GetParam().data.at("input").as_object();
  const auto& expected = GetParam().data.at("expected").as_object();
  ASSERT_TRUE(fixtures::deliberate_difference(fixture_file, GetParam().id).empty());
  const std::string payload(input.at("payload").as_string());
  const tomodachi::JsonBase envelope;
  if (expected.contains("error")) {
    EXPECT_THROW(envelope.parse(payload, nullptr), tomodachi::EnvelopeError)
        << expected.at("error");
    return;
  }
  tomodachi::MessageAttributes attributes{{"a", boost::json::value("b")}};
  const tomodachi::ParsedMessage parsed =
      envelope.parse(payload, input.contains("parse_kwargs") ? &attributes : nullptr);
  expect_parse_result(parsed, expected);
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return fixtures::test_name(info.param.id);
}

INSTANTIATE_TEST_SUITE_P(Upstream, JsonBaseBuild,
                         ::testing::ValuesIn(fixtures::cases(fixture_file, "build")), case_name);
INSTANTIATE_TEST_SUITE_P(Upstream, JsonBaseParse,
                         ::testing::ValuesIn(fixtures::cases(fixture_file, "parse")), case_name);

TEST(JsonBaseFixtures, CoverEveryCase) {
  const auto all = fixtures::load(fixture_file);
  EXPECT_EQ(
      fixtures::cases(fixture_file, "build").size() + fixtures::cases(fixture_file, "parse").size(),
      all.at("cases").as_array().size());
}

}  // namespace
