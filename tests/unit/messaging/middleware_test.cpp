// Message middleware (spec/service.md §7) over the in-memory broker.
#include <tomodachi/testing.hpp>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace {

using messaging_test::LogCapture;
using messaging_test::TestService;
using tomodachi::Message;
using tomodachi::MessageNext;
using tomodachi::MiddlewareContext;
using tomodachi::Task;

tomodachi::testing::SubscribeOptions sns_options() {
  tomodachi::testing::SubscribeOptions options;
  options.transport = "aws_sns_sqs";
  return options;
}

// add_message_middleware: a member and a callable, appended in order (the checked way to
// fill `message_middleware`).
class RegisteringService : public tomodachi::Service {
 public:
  RegisteringService() : Service("registering") {
    message_envelope = tomodachi::json_base();
    add_message_middleware<&RegisteringService::outer>();
    add_message_middleware(
        [this](Message&, MiddlewareContext&, const MessageNext& next) -> Task<void> {
          called.push_back("callable");
          co_await next();
        });
  }
  Task<void> outer(Message& message, MiddlewareContext&, const MessageNext& next) {
    called.push_back("member");
    message.set("from_member", true);
    co_await next();
  }
  std::vector<std::string> called;
};

TEST(MessageMiddleware, AddMessageMiddlewareAppendsMembersAndCallablesInOrder) {
  RegisteringService service;
  ASSERT_EQ(service.message_middleware.size(), 2u);
  tomodachi::testing::Broker broker;
  boost::json::value from_member;
  broker.subscribe(service, "t", "handler", [&](Message& message) -> Task<void> {
    service.called.push_back("handler");
    from_member = message.get("from_member");
    co_return;
  });
  broker.publish(service, "hello", "t");
  broker.run_until_idle();
  EXPECT_EQ(service.called, (std::vector<std::string>{"member", "callable", "handler"}));
  EXPECT_EQ(from_member, true);
}

// Upstream's middleware test (tests/services/aws_sns_sqs_middleware_service.py): four
// middleware, outermost first, each adding values; the handler sees all of them.
TEST(MessageMiddleware, RunsOutermostFirstAndPassesValuesOn) {
  TestService service;
  service.message_envelope = tomodachi::json_base();
  std::vector<std::string> called;
  const auto record = [&called](std::string name) {
    return [&called, name](Message& message, MiddlewareContext& context,
                           const MessageNext& next) -> Task<void> {
      called.push_back(name);
      auto& list = context.values["middlewares_called"];
      if (list.is_null()) list = boost::json::array{};
      list.as_array().emplace_back(name);
      if (name == "func_abc") message.set("kwarg_abc", 4711);
      if (name == "func_xyz") message.set("kwarg_xyz", 4712);
      if (name == "init_000") {
        const auto& attribute = message.message_attributes().json("initial_a_value");
        context.values["a_value"] = attribute.as_int64();
      } else {
        context.values["a_value"] =
            context.values["a_value"].as_int64() * (name == "func_abc"   ? 2
                                                    : name == "func_xyz" ? 3
                                                                         : 1);
      }
      co_await next();
    };
  };
  service.message_middleware = {record("init_000"), record("func_abc"), record("func_xyz"),
                                record("last_in_chain")};

  boost::json::object seen;
  std::vector<std::string> called_at_handler;
  tomodachi::testing::Broker broker;
  broker.subscribe(
      service, "test-middleware-topic", "handler",
      [&](Message& message) -> Task<void> {
        called_at_handler = called;
        seen["kwarg_abc"] = message.get("kwarg_abc");
        seen["kwarg_xyz"] = message.get("kwarg_xyz");
        seen["topic"] = message.get("topic");
        seen["initial_a_value"] = message.message_attributes().json("initial_a_value");
        seen["data"] = message.data();
        co_return;
      },
      sns_options());
  tomodachi::testing::PublishOptions publish;
  publish.message_attributes.set("initial_a_value", boost::json::value(5));
  broker.publish(service, "hello", "test-middleware-topic", publish);
  broker.run_until_idle();

  EXPECT_EQ(called_at_handler,
            (std::vector<std::string>{"init_000", "func_abc", "func_xyz", "last_in_chain"}));
  EXPECT_EQ(seen["kwarg_abc"], 4711);
  EXPECT_EQ(seen["kwarg_xyz"], 4712);
  EXPECT_EQ(seen["topic"], "test-middleware-topic");
  EXPECT_EQ(seen["initial_a_value"], 5);
  EXPECT_EQ(seen["data"], "hello");
  EXPECT_EQ(broker.stats().acked, 1u);
}

TEST(MessageMiddleware, ContextIsSharedAlongTheChainAndFreshPerMessage) {
  TestService service;
  std::vector<std::int64_t> counters;
  service.message_middleware = {
      [](Message&, MiddlewareContext& context, const MessageNext& next) -> Task<void> {
        context.values["count"] = 1;
        co_await next();
      },
      [&counters](Message&, MiddlewareContext& context, const MessageNext& next) -> Task<void> {
        context.values["count"] = context.values["count"].as_int64() + 1;
        counters.push_back(context.values["count"].as_int64());
        co_await next();
      }};
  tomodachi::testing::Broker broker;
  broker.subscribe(service, "t", "handler", [](Message&) -> Task<void> { co_return; });
  broker.publish_payload("t", "one");
  broker.publish_payload("t", "two");
  broker.run_until_idle();
  EXPECT_EQ(counters, (std::vector<std::int64_t>{2, 2}));
}

TEST(MessageMiddleware, NotCallingNextSkipsTheHandlerAndCountsAsHandled) {
  TestService service;
  service.message_middleware = {
      [](Message& message, MiddlewareContext&, const MessageNext& next) -> Task<void> {
        if (message.data() == "skip") co_return;
        co_await next();
      }};
  std::vector<std::string> handled;
  tomodachi::testing::Broker broker;
  broker.subscribe(service, "t", "handler", [&handled](Message& message) -> Task<void> {
    handled.emplace_back(message.data().as_string());
    co_return;
  });
  broker.publish_payload("t", "skip");
  broker.publish_payload("t", "run");
  broker.run_until_idle();
  EXPECT_EQ(handled, (std::vector<std::string>{"run"}));
  EXPECT_EQ(broker.stats().acked, 2u);
  EXPECT_EQ(broker.stats().dead_lettered, 0u);
}

TEST(MessageMiddleware, ExceptionsReachTheDeliveryPolicyUnlessCaught) {
  TestService service;
  bool swallow = false;
  service.message_middleware = {
      [&swallow](Message&, MiddlewareContext&, const MessageNext& next) -> Task<void> {
        std::exception_ptr failure;
        try {
          co_await next();
        } catch (...) {
          failure = std::current_exception();
        }
        if (failure && !swallow) std::rethrow_exception(failure);
      }};
  tomodachi::testing::Broker broker;
  tomodachi::testing::SubscribeOptions options;
  options.delivery.max_attempts = 1;
  broker.subscribe(
      service, "t", "handler", [](Message&) -> Task<void> { throw std::runtime_error("boom"); },
      options);

  broker.publish_payload("t", "a");
  broker.run_until_idle();
  EXPECT_EQ(broker.stats().dead_lettered, 1u);

  swallow = true;
  broker.publish_payload("t", "b");
  broker.run_until_idle();
  EXPECT_EQ(broker.stats().dead_lettered, 1u);
  EXPECT_EQ(broker.stats().acked, 1u);
}

TEST(MessageMiddleware, AMiddlewareExceptionBeforeNextIsAHandlerFailure) {
  TestService service;
  bool handler_ran = false;
  service.message_middleware = {[](Message&, MiddlewareContext&, const MessageNext&) -> Task<void> {
    throw std::runtime_error("rejected by middleware");
    co_return;
  }};
  tomodachi::testing::Broker broker;
  tomodachi::testing::SubscribeOptions options;
  options.delivery = tomodachi::DeliveryPolicy::tomodachi();
  broker.subscribe(
      service, "t", "handler",
      [&handler_ran](Message&) -> Task<void> {
        handler_ran = true;
        co_return;
      },
      options);
  LogCapture logs;
  broker.publish_payload("t", "a");
  broker.run_until_idle();
  EXPECT_FALSE(handler_ran);
  EXPECT_EQ(broker.stats().dropped, 1u);
  EXPECT_EQ(logs.with_message("uncaught exception: rejected by middleware").size(), 1u);
}

}  // namespace
