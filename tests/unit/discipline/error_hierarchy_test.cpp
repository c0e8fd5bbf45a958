// Every exception type tomodachi defines derives from tomodachi::Error (a std::runtime_error),
// and what the library throws at registration and configuration time is caught as one.
// tests/discipline/no_std_throws.sh keeps `throw std::...` out of src/.
#include "core/async.hpp"
#include "core/config.hpp"
#include "core/launcher.hpp"
#include "core/registry.hpp"
#include "http/framing.hpp"
#include "http/http_util.hpp"
#include "http/router.hpp"

#include <tomodachi/context.hpp>
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
// The library's private types too: a service sees them through `catch (const Error&)`.
static_assert(all_are_errors<tomodachi::ArgumentError, tomodachi::http_impl::ResponseEncodingError,
                             tomodachi::detail::ConfigError, tomodachi::detail::AbiMismatch,
                             tomodachi::core::Closed>);

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

// What `what()` says for an exception of type E thrown by `f` ("" when none or another type).
template <typename E, typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& error) {
    return error.what();
  } catch (...) {
    return "";
  }
  return "";
}

TEST(Errors, AnHttpOptionCheckIsAnOptionError) {
  namespace http = tomodachi::http_impl;
  EXPECT_EQ(
      message_of<tomodachi::OptionError>([] { http::parse_client_max_size(std::int64_t{1}); }),
      "Too low value for http option client_max_size: 1");
  tomodachi::Options::Http options;
  options.max_keepalive_time = 10;
  EXPECT_THROW(http::keepalive_config(options), tomodachi::OptionError);
  options = {};
  options.max_request_line_size = 10;
  EXPECT_THROW(http::framing_limits(options, 2048), tomodachi::OptionError);
  EXPECT_THROW(http::parse_ip_network("10.0.0.0/33"), Error);
}

TEST(Errors, ABadRoutePatternIsAnArgumentError) {
  tomodachi::http_impl::Router router;
  EXPECT_NE(message_of<tomodachi::ArgumentError>([&] {
              router.add({"GET"}, "/(?P<x>[", 0);
            }).find("Bad http route pattern '/(?P<x>['"),
            std::string::npos);
}

TEST(Errors, ABadConfigKeyIsAnOptionError) {
  tomodachi::Service service;
  EXPECT_EQ(message_of<tomodachi::OptionError>([&] {
              tomodachi::detail::apply_config(service, {{"uuid", 4711}});
            }),
            "config key 'uuid' must be a string");
  EXPECT_THROW(tomodachi::detail::apply_config(service, {{"options", "x"}}),
               tomodachi::OptionError);
}

TEST(Errors, AnUnreadableConfigFileArgumentIsATomodachiError) {
  // `tomodachi run -c <file>`: the CLI reports the message of this error.
  EXPECT_EQ(message_of<Error>([] {
              tomodachi::detail::parse_config_files({"/nonexistent/c.json"});
            }).rfind("Invalid config file: ", 0),
            0u);
}

TEST(Errors, ABadValidationArgumentIsAnArgumentError) {
  EXPECT_NE(message_of<tomodachi::ArgumentError>([] {
              tomodachi::validate_field_regex("x", "(unclosed");
            }).find("invalid validation pattern '(unclosed'"),
            std::string::npos);
  EXPECT_THROW(tomodachi::validate_field_length(boost::json::value(42), 1),
               tomodachi::ArgumentError);
}

TEST(Errors, ANonIntegerContextValueIsAnArgumentError) {
  tomodachi::set_execution_context({{"error_hierarchy_test_text", "x"}});
  EXPECT_THROW(tomodachi::increase_execution_context_value("error_hierarchy_test_text"),
               tomodachi::ArgumentError);
}

TEST(Errors, AClosedGateIsATomodachiError) {
  tomodachi::core::Gate gate;
  gate.close();
  EXPECT_THROW(gate.enter(), Error);
}

}  // namespace
