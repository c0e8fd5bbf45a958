// Duplicate suppression (spec/wire.md §2.8, §3.11): registry and end to end.
#include <tomodachi/testing.hpp>
#include <tomodachi/transport/messaging.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <malloc.h>

#include <algorithm>

#include "test_support.hpp"

namespace {

using messaging_test::LogCapture;
using messaging_test::TestService;
using tomodachi::DeliveryPolicy;
using tomodachi::DuplicateRegistry;
using tomodachi::Message;
using tomodachi::Task;
using tomodachi::testing::Broker;
using namespace std::chrono_literals;

struct FakeClock {
  DuplicateRegistry::Clock::time_point now{};
  std::function<DuplicateRegistry::Clock::time_point()> function() {
    return [this] { return now; };
  }
};

TEST(DuplicateRegistry, SuppressesCompletedKeysWithinTheWindow) {
  FakeClock clock;
  DuplicateRegistry registry(100, 60s, clock.function());
  EXPECT_EQ(registry.begin("m1:h"), DuplicateRegistry::Seen::no);
  EXPECT_EQ(registry.begin("m1:h"), DuplicateRegistry::Seen::in_progress);
  registry.complete("m1:h");
  EXPECT_EQ(registry.begin("m1:h"), DuplicateRegistry::Seen::completed);
  EXPECT_EQ(registry.begin("m1:other_handler"), DuplicateRegistry::Seen::no);
  clock.now += 59s;
  EXPECT_EQ(registry.begin("m1:h"), DuplicateRegistry::Seen::completed);
  clock.now += 1s;
  EXPECT_EQ(registry.begin("m1:h"), DuplicateRegistry::Seen::no);  // 60 s passed: handled again
}

TEST(DuplicateRegistry, AFailedAttemptForgetsItsKey) {
  DuplicateRegistry registry;
  EXPECT_EQ(registry.begin("m1:h"), DuplicateRegistry::Seen::no);
  registry.forget("m1:h");
  EXPECT_EQ(registry.begin("m1:h"), DuplicateRegistry::Seen::no);
}

TEST(DuplicateRegistry, MemoryIsBounded) {
  FakeClock clock;
  DuplicateRegistry registry(1000, 60s, clock.function());
  for (int i = 0; i < 100000; ++i) {
    const std::string key = "m" + std::to_string(i) + ":h";
    registry.begin(key);
    registry.complete(key);
    EXPECT_LE(registry.size(), 1000u);
    if (i % 100 == 0) clock.now += 1s;
  }
  // The newest keys are still suppressed.
  EXPECT_EQ(registry.begin("m99999:h"), DuplicateRegistry::Seen::completed);
}

TEST(DuplicateRegistry, ExpiredKeysArePrunedWhenTheBoundIsReached) {
  FakeClock clock;
  DuplicateRegistry registry(10, 60s, clock.function());
  for (int i = 0; i < 9; ++i) {
    registry.begin("old" + std::to_string(i));
    registry.complete("old" + std::to_string(i));
  }
  registry.begin("running");  // in progress: kept however old
  EXPECT_EQ(registry.size(), 10u);
  clock.now += 61s;
  registry.begin("new");  // 11 > 10: the expired entries go
  EXPECT_EQ(registry.size(), 2u);
  EXPECT_EQ(registry.begin("running"), DuplicateRegistry::Seen::in_progress);
}

TEST(DuplicateRegistry, ExpiredKeysLeaveBeforeAnyFreshOne) {
  FakeClock clock;
  DuplicateRegistry registry(10, 60s, clock.function());
  for (int i = 0; i < 5; ++i) {
    registry.begin("old" + std::to_string(i));
    registry.complete("old" + std::to_string(i));
  }
  clock.now += 30s;
  for (int i = 0; i < 5; ++i) {
    registry.begin("fresh" + std::to_string(i));
    registry.complete("fresh" + std::to_string(i));
  }
  clock.now += 31s;  // the old keys are 61 s old, the fresh ones 31 s
  for (int i = 0; i < 5; ++i) registry.begin("new" + std::to_string(i));
  EXPECT_EQ(registry.size(), 10u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(registry.begin("fresh" + std::to_string(i)), DuplicateRegistry::Seen::completed) << i;
  }
}

// At the bound one key makes room for one: the completed key nearest to the end of its
// window. (Dropping a tenth of the bound at once forgot thousands of fresh keys.)
TEST(DuplicateRegistry, AtTheBoundOnlyTheOldestCompletedKeyMakesRoom) {
  FakeClock clock;
  DuplicateRegistry registry(10, 60s, clock.function());
  registry.begin("running");  // in progress: outlives completed keys
  for (int i = 0; i < 9; ++i) {
    clock.now += 1s;
    registry.begin("k" + std::to_string(i));
    registry.complete("k" + std::to_string(i));
  }
  registry.begin("k9");
  registry.complete("k9");
  EXPECT_EQ(registry.size(), 10u);
  EXPECT_EQ(registry.begin("k0"),
            DuplicateRegistry::Seen::no);  // the oldest went (and is back now)
  EXPECT_EQ(registry.begin("running"), DuplicateRegistry::Seen::in_progress);
  for (int i = 2; i < 10; ++i) {
    EXPECT_EQ(registry.begin("k" + std::to_string(i)), DuplicateRegistry::Seen::completed) << i;
  }
}

// Senders choose message uuids of any length: the registry keeps a fixed-size digest,
// never the text.
TEST(DuplicateRegistry, KeysOfAnyLengthTakeFixedSpace) {
  FakeClock clock;
  DuplicateRegistry registry(1000, 60s, clock.function());
  const std::string long_uuid(64 * 1024, 'u');
  const auto allocated = [] {
    const struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
  };
  const std::size_t before = allocated();
  for (int i = 0; i < 500; ++i) {  // 32 MB of key text
    const std::string key = long_uuid + std::to_string(i) + ":handler";
    registry.begin(key);
    registry.complete(key);
  }
  const std::size_t after = allocated();
  EXPECT_EQ(registry.size(), 500u);
  EXPECT_LT(after - std::min(after, before),
            std::size_t{1} << 20);  // < 1 MB (0 where ASan replaces malloc)
  EXPECT_EQ(registry.begin(long_uuid + "7:handler"), DuplicateRegistry::Seen::completed);
  EXPECT_EQ(DuplicateRegistry::key_of("a:h"), DuplicateRegistry::key_of(std::string("a:h")));
  EXPECT_NE(DuplicateRegistry::key_of("a:h"), DuplicateRegistry::key_of("a:g"));
}

std::string json_payload(const std::string& message_uuid) {
  return R"({"service": {"name": "s", "uuid": "u"}, "metadata": {"message_uuid": ")" +
         message_uuid + R"(", "data_encoding": "raw"}, "data": "x"})";
}

TEST(DuplicateSuppression, ACopyOfAHandledMessageIsAckedWithoutRunningTheHandler) {
  TestService service;
  service.message_envelope = tomodachi::json_base();
  Broker broker;
  LogCapture logs;
  int calls = 0;
  broker.subscribe(service, "t", "handler", [&calls](Message&) -> Task<void> {
    ++calls;
    co_return;
  });
  broker.publish_payload("t", json_payload("u.1"));
  broker.run_until_idle();
  broker.publish_payload("t", json_payload("u.1"));
  broker.run_until_idle();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(broker.stats().acked, 2u);
  EXPECT_EQ(
      logs.with_message("ignored duplicate message already processed in the last minute").size(),
      1u);
}

TEST(DuplicateSuppression, KeysIncludeTheHandlerName) {
  TestService service;
  service.message_envelope = tomodachi::json_base();
  Broker broker;
  int calls = 0;
  const auto count = [&calls](Message&) -> Task<void> {
    ++calls;
    co_return;
  };
  broker.subscribe(service, "t", "first", count);
  broker.subscribe(service, "t", "second", count);
  broker.publish_payload("t", json_payload("u.1"));
  broker.run_until_idle();
  EXPECT_EQ(calls, 2);
}

TEST(DuplicateSuppression, ACopyArrivingWhileTheFirstIsHandledComesBackLater) {
  TestService service;
  service.message_envelope = tomodachi::json_base();
  Broker broker;
  int calls = 0;
  // Two deliveries start concurrently; the first handler is still running (suspended)
  // when the second copy is dispatched.
  broker.subscribe(service, "t", "handler", [&calls, &broker](Message&) -> Task<void> {
    ++calls;
    boost::asio::steady_timer timer(broker.executor(), 10ms);
    co_await timer.async_wait(boost::asio::use_awaitable);
  });
  broker.publish_payload("t", json_payload("u.1"));
  broker.publish_payload("t", json_payload("u.1"));
  broker.run_until_idle();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(broker.stats().duplicates_deferred, 1u);
  EXPECT_EQ(broker.stats().acked, 2u);  // the deferred copy came back and was acked as done
}

TEST(DuplicateSuppression, NeverSwallowsARetry) {
  TestService service;
  service.message_envelope = tomodachi::json_base();
  Broker broker;
  int calls = 0;
  broker.subscribe(service, "t", "handler", [&calls](Message&) -> Task<void> {
    if (++calls == 1) throw std::runtime_error("first attempt fails");
    co_return;
  });
  broker.publish_payload("t", json_payload("u.1"));
  broker.run_until_idle();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(broker.stats().acked, 1u);
}

TEST(DuplicateSuppression, TomodachiPolicyForgetsTheKeyOnlyOnInternalErrors) {
  TestService service;
  service.message_envelope = tomodachi::json_base();
  Broker broker;
  int calls = 0;
  tomodachi::testing::SubscribeOptions options;
  options.delivery = DeliveryPolicy::tomodachi();
  broker.subscribe(
      service, "t", "handler",
      [&calls](Message&) -> Task<void> {
        ++calls;
        if (calls == 1) throw tomodachi::AmqpInternalServiceError();
        if (calls == 2) throw std::runtime_error("dropped");
        co_return;
      },
      options);
  broker.publish_payload("t", json_payload("u.1"));  // internal error, requeued, then dropped
  broker.run_until_idle();
  broker.publish_payload("t", json_payload("u.1"));  // a copy of the dropped message: suppressed
  broker.run_until_idle();
  EXPECT_EQ(calls, 2);
}

TEST(DuplicateSuppression, RawModeHasNoMessageUuid) {
  TestService service;
  Broker broker;
  int calls = 0;
  broker.subscribe(service, "t", "handler", [&calls](Message&) -> Task<void> {
    ++calls;
    co_return;
  });
  broker.publish_payload("t", json_payload("u.1"));
  broker.publish_payload("t", json_payload("u.1"));
  broker.run_until_idle();
  EXPECT_EQ(calls, 2);
}

}  // namespace
