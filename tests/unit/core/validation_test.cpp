// Re-creates upstream's test_validation scenarios (field regex and length checks) and
// the exact exception messages of Python tomodachi's validation helpers.
#include <tomodachi/validation.hpp>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <string>

namespace {

template <typename Exception, typename Call>
std::string message_of(Call call) {
  try {
    call();
  } catch (const Exception& error) {
    return error.what();
  }
  ADD_FAILURE() << "no exception";
  return {};
}

TEST(Validation, RegexMatchIsAnchoredAtTheStartOnly) {
  EXPECT_NO_THROW(tomodachi::validate_field_regex(
      "af047ca5-e8f4-48a9-ab01-1d948f635f95",
      "^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$"));
  EXPECT_NO_THROW(tomodachi::validate_field_regex("abc-trailing", "[a-z]+"));
  EXPECT_THROW(tomodachi::validate_field_regex("-abc", "[a-z]+"),
               tomodachi::RegexMissmatchException);
  EXPECT_NO_THROW(tomodachi::validate_field_regex("John Doe", "^[a-zA-Z ]+$"));
}

TEST(Validation, RegexMismatchMessageIsUpstreams) {
  const auto text = message_of<tomodachi::RegexMissmatchException>(
      [] { tomodachi::validate_field_regex("John Doe", "^(#?[a-fA-F0-9]{6}|)$"); });
  EXPECT_EQ(text,
            "RegexMissmatchException: value \"John Doe\" does not match pattern "
            "\"^(#?[a-fA-F0-9]{6}|)$\"");
}

TEST(Validation, PythonNamedGroupsAreAccepted) {
  EXPECT_NO_THROW(tomodachi::validate_field_regex("id-42", "^id-(?P<number>[0-9]+)$"));
}

TEST(Validation, InvalidPatternNamesThePattern) {
  const auto text = message_of<tomodachi::ArgumentError>(
      [] { tomodachi::validate_field_regex("x", "(unclosed"); });
  EXPECT_NE(text.find("(unclosed"), std::string::npos) << text;
}

TEST(Validation, StringLengthBoundsAsUpstreamsTest) {
  EXPECT_NO_THROW(tomodachi::validate_field_length("19840801", 6, 8));
  EXPECT_THROW(tomodachi::validate_field_length("1984-08-01", 6, 8), tomodachi::TooLargeException);
  EXPECT_THROW(tomodachi::validate_field_length("8481", 6, 8), tomodachi::TooSmallException);
  EXPECT_THROW(tomodachi::validate_field_length("", 1), tomodachi::TooSmallException);
  EXPECT_NO_THROW(tomodachi::validate_field_length(""));
  EXPECT_NO_THROW(tomodachi::validate_field_length("anything at all", -1, -1));
}

TEST(Validation, LengthCountsCharactersNotBytes) {
  EXPECT_NO_THROW(tomodachi::validate_field_length("åäö", 3, 3));
  EXPECT_THROW(tomodachi::validate_field_length("åäöü", 3, 3), tomodachi::TooLargeException);
}

TEST(Validation, LengthMessagesAreUpstreams) {
  EXPECT_EQ(message_of<tomodachi::TooSmallException>(
                [] { tomodachi::validate_field_length("8481", 6, 8); }),
            "TooSmallException: \"8481\" is not at least of length 6");
  EXPECT_EQ(message_of<tomodachi::TooLargeException>(
                [] { tomodachi::validate_field_length("1984-08-01", 6, 8); }),
            "TooLargeException: \"1984-08-01\" length is larger than 8");
}

TEST(Validation, JsonArraysAreCountedByItems) {
  const boost::json::value six = {"a", "b", "c", "d", "e", "f"};
  const boost::json::value four = {"a", "b", "c", "d"};
  const boost::json::value nine = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_NO_THROW(tomodachi::validate_field_length(six, 6, 8));
  EXPECT_THROW(tomodachi::validate_field_length(four, 6, 8), tomodachi::TooSmallException);
  EXPECT_EQ(message_of<tomodachi::TooLargeException>(
                [&] { tomodachi::validate_field_length(nine, 6, 8); }),
            "TooLargeException: \"[1, 2, 3, 4, 5, 6, 7, 8, 9]\" length is larger than 8");
  EXPECT_THROW(tomodachi::validate_field_length(boost::json::array{}, 1),
               tomodachi::TooSmallException);
  EXPECT_NO_THROW(tomodachi::validate_field_length(boost::json::value("19840801"), 6, 8));
}

TEST(Validation, ValuesWithoutLengthAreRejected) {
  EXPECT_THROW(tomodachi::validate_field_length(boost::json::value(42), 1),
               tomodachi::ArgumentError);
}

TEST(Validation, AllAreValidationExceptions) {
  EXPECT_THROW(tomodachi::validate_field_length("", 1), tomodachi::ValidationError);
  EXPECT_THROW(tomodachi::validate_field_regex("x", "y"), tomodachi::ValidationError);
}

}  // namespace
