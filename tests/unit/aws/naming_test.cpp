// Topic and queue naming, ARN handling, wildcard matching and queue policies against every
// case of tests/fixtures/upstream/aws_names.json and queue_policy.json (generate_queue_policy).

#include "aws/naming.hpp"
#include "aws/ascii.hpp"
#include "aws/policy.hpp"
#include "fixture_support.hpp"

#include <gtest/gtest.h>

#include <clocale>

namespace aws = tomodachi::aws;
namespace json = boost::json;
using aws_test::case_id;
using aws_test::expected_of;
using aws_test::fixture_cases;

namespace {
const std::string names_file = "aws_names.json";

std::string option(const json::object& options, std::string_view key) {
  const auto* group = options.if_contains("aws_sns_sqs");
  if (group == nullptr) return {};
  return aws_test::string_or_empty(group->as_object().if_contains(key));
}
}  // namespace

TEST(AwsNamesFixture, EncodeTopic) {
  const auto cases = fixture_cases(names_file, "encode_topic");
  ASSERT_EQ(cases.size(), 23u);
  for (const auto& c : cases) {
    const auto expected = expected_of(names_file, c);
    const std::string topic(c.at("input").at("topic").as_string());
    const auto encoded = aws::encode_topic(topic);
    EXPECT_EQ(encoded, expected.at("encoded").as_string()) << case_id(c);
    EXPECT_EQ(aws::decode_topic(encoded), expected.at("decode_of_encoded").as_string())
        << case_id(c);
  }
}

TEST(AwsNamesFixture, DecodeTopic) {
  const auto cases = fixture_cases(names_file, "decode_topic");
  ASSERT_EQ(cases.size(), 9u);
  for (const auto& c : cases) {
    const auto expected = expected_of(names_file, c);
    const std::string encoded(c.at("input").at("encoded").as_string());
    if (expected.contains("error")) {
      EXPECT_THROW(aws::decode_topic(encoded), aws::InvalidNameError) << case_id(c);
    } else {
      EXPECT_EQ(aws::decode_topic(encoded), expected.at("decoded").as_string()) << case_id(c);
    }
  }
}

TEST(AwsNamesFixture, ValidateNames) {
  int count = 0;
  for (const std::string kind : {"validate_topic_name", "validate_queue_name"}) {
    for (const auto& c : fixture_cases(names_file, kind)) {
      ++count;
      const auto expected = expected_of(names_file, c);
      const auto& input = c.at("input").as_object();
      const bool topic = kind == "validate_topic_name";
      const std::string name(input.at(topic ? "topic" : "queue_name").as_string());
      const auto validate = [&] {
        topic ? aws::validate_topic_name(name) : aws::validate_queue_name(name);
      };
      if (expected.at("valid").as_bool()) {
        EXPECT_NO_THROW(validate()) << case_id(c);
      } else {
        try {
          validate();
          ADD_FAILURE() << case_id(c) << ": accepted";
        } catch (const aws::InvalidNameError& error) {
          EXPECT_EQ(error.what(), expected.at("error").at("message").as_string()) << case_id(c);
        }
      }
    }
  }
  EXPECT_EQ(count, 26);
}

TEST(AwsNamesFixture, SnsTopicName) {
  const auto cases = fixture_cases(names_file, "sns_topic_name");
  ASSERT_EQ(cases.size(), 13u);
  for (const auto& c : cases) {
    const auto expected = expected_of(names_file, c);
    const auto& input = c.at("input").as_object();
    const std::string topic(input.at("topic").as_string());
    // The publish-call `topic_prefix` argument wins over the option; None / "" mean none.
    const auto& argument = input.at("topic_prefix_argument");
    const std::string prefix = aws_test::is_unset(argument)
                                   ? aws_test::string_or_empty(&input.at("option_topic_prefix"))
                                   : aws_test::string_or_empty(&argument);
    const bool fifo = input.at("fifo").as_bool();
    EXPECT_EQ(aws::topic_name(topic, prefix, fifo), expected.at("get_topic_name").as_string())
        << case_id(c);
    const auto name = aws::sns_topic_name(topic, prefix, fifo);
    EXPECT_EQ(name, expected.at("sns_topic_name").as_string()) << case_id(c);
    EXPECT_EQ("arn:aws:sns:eu-west-1:123456789012:" + name, expected.at("topic_arn").as_string())
        << case_id(c);
    const bool valid = expected.at("validate_topic_name_of_unprefixed_topic").at("valid").as_bool();
    if (valid) {
      EXPECT_NO_THROW(aws::validate_topic_name(topic)) << case_id(c);
    } else {
      EXPECT_THROW(aws::validate_topic_name(topic), aws::InvalidNameError) << case_id(c);
    }
  }
}

TEST(AwsNamesFixture, TopicFromArn) {
  const auto cases = fixture_cases(names_file, "topic_from_arn");
  ASSERT_EQ(cases.size(), 10u);
  for (const auto& c : cases) {
    const auto expected = expected_of(names_file, c);
    const auto& input = c.at("input").as_object();
    EXPECT_EQ(aws::topic_from_arn(input.at("topic_arn").as_string(),
                                  aws_test::string_or_empty(&input.at("option_topic_prefix"))),
              expected.at("topic").as_string())
        << case_id(c);
  }
}

TEST(AwsNamesFixture, QueueNameHelper) {
  const auto cases = fixture_cases(names_file, "sqs_queue_name_helper");
  ASSERT_EQ(cases.size(), 17u);
  for (const auto& c : cases) {
    const auto expected = expected_of(names_file, c);
    const auto& input = c.at("input").as_object();
    const auto& competing = input.at("competing");
    EXPECT_EQ(aws::hashed_queue_name(
                  input.at("encoded_topic").as_string(), input.at("function_name").as_string(),
                  input.at("service_uuid").as_string(), competing.is_bool() && competing.as_bool(),
                  aws_test::string_or_empty(&input.at("option_queue_name_prefix")),
                  input.at("fifo").as_bool()),
              expected.at("queue_name").as_string())
        << case_id(c);
  }
}

TEST(AwsNamesFixture, WildcardPatternMatches) {
  const auto cases = fixture_cases(names_file, "wildcard_topic_subscription");
  ASSERT_EQ(cases.size(), 10u);
  for (const auto& c : cases) {
    const auto expected = expected_of(names_file, c);
    const auto& input = c.at("input").as_object();
    const aws::WildcardTopicPattern pattern(input.at("topic").as_string(),
                                            option(input.at("options").as_object(), "topic_prefix"),
                                            input.at("fifo").as_bool());
    for (const auto& [arn, matches] : expected.at("pattern_matches").as_object()) {
      EXPECT_EQ(pattern.matches(arn), matches.as_bool()) << case_id(c) << " " << std::string(arn);
    }
  }
}

TEST(AwsNames, WildcardStarDoesNotCrossEncodedDots) {
  const aws::WildcardTopicPattern pattern("*___2e_created", "", false);
  EXPECT_TRUE(pattern.matches("arn:aws:sns:r:1:orders___2e_created"));
  EXPECT_FALSE(pattern.matches("arn:aws:sns:r:1:a___2e_b___2e_created"));
  EXPECT_FALSE(pattern.matches("arn:aws:sns::1:orders___2e_created"));
  EXPECT_FALSE(pattern.matches("arn:aws:sqs:r:1:orders___2e_created"));
}

TEST(AwsNames, SqsArns) {
  const auto arn = aws::parse_sqs_arn("arn:aws:sqs:eu-west-1:123456789012:my-queue");
  EXPECT_EQ(arn.region, "eu-west-1");
  EXPECT_EQ(arn.account, "123456789012");
  EXPECT_EQ(arn.name, "my-queue");
  EXPECT_FALSE(arn.own_account());
  EXPECT_TRUE(aws::parse_sqs_arn("arn:aws:sqs:eu-west-1:000000000000:q").own_account());
  EXPECT_TRUE(aws::looks_like_sqs_arn("arn:aws-cn:sqs:cn-north-1:1:q"));
  EXPECT_FALSE(aws::looks_like_sqs_arn("my-queue"));
  EXPECT_THROW(aws::parse_sqs_arn("arn:aws:sqs:eu-west-1:abc:my-queue"), aws::InvalidNameError);
  EXPECT_THROW(aws::parse_sqs_arn("arn:aws:sqs:eu-west-1:1"), aws::InvalidNameError);
}

TEST(QueuePolicyFixture, GenerateQueuePolicy) {
  const std::string file = "queue_policy.json";
  const auto cases = fixture_cases(file, "generate_queue_policy");
  ASSERT_EQ(cases.size(), 14u);
  for (const auto& c : cases) {
    const auto expected = expected_of(file, c);
    const auto& input = c.at("input").as_object();
    std::vector<std::string> arns;
    for (const auto& arn : input.at("topic_arns").as_array()) arns.emplace_back(arn.as_string());
    aws::QueuePolicyOptions options;
    const auto& given = input.at("options").as_object();
    if (given.contains("queue_policy"))
      options.queue_policy = std::string(given.at("queue_policy").as_string());
    if (given.contains("wildcard_queue_policy")) {
      options.wildcard_queue_policy = std::string(given.at("wildcard_queue_policy").as_string());
    }
    const auto source_arn = aws::queue_policy_source_arn(arns, options);
    EXPECT_EQ(source_arn, expected.at("source_arn").as_string()) << case_id(c);
    const auto policy = aws::queue_policy(input.at("queue_arn").as_string(), source_arn,
                                          input.at("pinned_uuid4").as_string(),
                                          input.at("pinned_time").to_number<double>());
    EXPECT_EQ(tomodachi::json::dumps(policy), expected.at("policy_attribute_value").as_string())
        << case_id(c);
    EXPECT_TRUE(
        aws::same_policy_statements(expected.at("policy_attribute_value").as_string(), policy))
        << case_id(c);
  }
}

TEST(QueuePolicy, StatementsAreComparedWithoutSid) {
  const auto wanted = aws::queue_policy("arn:aws:sqs:r:1:q", "arn:aws:sns:r:1:t", "uuid", 1.5);
  auto other_sid = aws::queue_policy("arn:aws:sqs:r:1:q", "arn:aws:sns:r:1:t", "other", 99.0);
  EXPECT_TRUE(aws::same_policy_statements(tomodachi::json::dumps(other_sid), wanted));
  const auto other_topic = aws::queue_policy("arn:aws:sqs:r:1:q", "arn:aws:sns:r:1:u", "uuid", 1.5);
  EXPECT_FALSE(aws::same_policy_statements(tomodachi::json::dumps(other_topic), wanted));
  EXPECT_FALSE(aws::same_policy_statements("not json", wanted));
}

TEST(AwsNames, CharacterClassesAreAsciiWhateverTheLocale) {
  for (int c = 0; c < 256; ++c) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    EXPECT_EQ(aws::ascii::is_alnum(static_cast<unsigned char>(c)), alnum) << c;
    EXPECT_EQ(aws::ascii::is_space(static_cast<unsigned char>(c)), c == ' ' || (c >= 9 && c <= 13))
        << c;
    EXPECT_EQ(aws::ascii::to_lower(static_cast<char>(c)),
              c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : static_cast<char>(c));
  }
  // In a single-byte locale <cctype> calls 0xe4 ('ä' in Latin-1) alphanumeric; SQS does not.
  const char* previous = std::setlocale(LC_CTYPE, nullptr);
  const std::string saved = previous ? previous : "C";
  for (const char* locale : {"de_DE.ISO-8859-1", "de_DE.iso88591", "en_US.ISO-8859-1", "C"}) {
    if (std::setlocale(LC_CTYPE, locale) == nullptr) continue;
    EXPECT_THROW(aws::validate_queue_name("k\xe4se"), aws::InvalidNameError) << locale;
    EXPECT_EQ(aws::encode_topic("k\xc3\xa4se"), "k___c3a4_se") << locale;
  }
  std::setlocale(LC_CTYPE, saved.c_str());
}
