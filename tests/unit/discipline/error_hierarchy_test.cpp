// Every exception type tomodachi defines derives from tomodachi::Error (a std::runtime_error),
// and what the library throws at registration and configuration time is caught as one.
#include <tomodachi/schedule.hpp>
#include <tomodachi/testing.hpp>
#include <tomodachi/tomodachi.hpp>

#include <gtest/gtest.h>

#include <boost/describe/class.hpp>

#include <string>
#include <type_traits>

namespace {

using tomodachi::Error;

template <typename... Types>
constexpr bool all_are_errors = (std::is_base_of_v<Error, Types> && ...);

static_assert(std::is_base_of_v<std::runtime_error, Error>);
static_assert(all_are_errors<tomodachi::OptionError, tomodachi::ScheduleError,
                             tomodachi::EnvelopeError, tomodachi::DataError,
                             tomodachi::ValidationError, tomodachi::RegexMissmatchException,
                             tomodachi::TooSmallException, tomodachi::TooLargeException>);
static_assert(
    all_are_errors<
        tomodachi::InternalServiceError, tomodachi::AmqpInternalServiceError,
        tomodachi::AmqpInternalServiceErrorException, tomodachi::AmqpInternalServiceException,
        tomodachi::AwsSnsSqsInternalServiceError, tomodachi::AwsSnsSqsInternalServiceErrorException,
        tomodachi::AwsSnsSqsInternalServiceException>);
static_assert(
    all_are_errors<tomodachi::AmqpException, tomodachi::AmqpConnectionException,
                   tomodachi::AmqpTooManyConsumersException,
                   tomodachi::AmqpExclusiveQueueLockedException, tomodachi::AmqpChannelClosed>);
static_assert(all_are_errors<tomodachi::AwsSnsSqsException, tomodachi::AwsSnsSqsConnectionException,
                             tomodachi::QueueDoesNotExistError>);

struct Order {
  int quantity = 0;
};
BOOST_DESCRIBE_STRUCT(Order, (), (quantity))

TEST(Errors, AnUnknownOptionIsATomodachiError) {
  tomodachi::Options options;
  try {
    options.set("http.prot", boost::json::value(80));
    FAIL() << "expected an OptionError";
  } catch (const Error& error) {
    EXPECT_NE(dynamic_cast<const tomodachi::OptionError*>(&error), nullptr);
    EXPECT_NE(std::string(error.what()).find("http.prot"), std::string::npos) << error.what();
  }
}

TEST(Errors, AnInvalidScheduleIsATomodachiError) {
  EXPECT_THROW(tomodachi::detail::validate_schedule(tomodachi::cron("not a cron")), Error);
  EXPECT_THROW(tomodachi::detail::validate_schedule(tomodachi::at("25:00")), Error);
}

TEST(Errors, DataThatDoesNotFitIsATomodachiError) {
  tomodachi::IncomingMessage incoming;
  incoming.payload = R"({"quantity": "many"})";
  tomodachi::ParsedMessage parsed;
  parsed.message = boost::json::value{{"data", {{"quantity", "many"}}}};
  const tomodachi::Message message(std::move(incoming), std::move(parsed), {});
  EXPECT_THROW(message.data_as<Order>(), Error);
}

TEST(Errors, AValidationFailureIsATomodachiError) {
  EXPECT_THROW(tomodachi::validate_field_length("", 1), Error);
  EXPECT_THROW(tomodachi::validate_field_regex("x", "y"), Error);
}

TEST(Errors, TheRenamedValidationExceptionStillCatches) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  static_assert(std::is_same_v<tomodachi::ValidationException, tomodachi::ValidationError>);
  EXPECT_THROW(tomodachi::validate_field_length("", 1), tomodachi::ValidationException);
#pragma GCC diagnostic pop
}

TEST(Errors, AnEnvelopeErrorIsATomodachiError) {
  EXPECT_THROW(tomodachi::json_base()->parse("not json", nullptr), Error);
}

}  // namespace
