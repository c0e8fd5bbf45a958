// Skipped duplicates logged per burst (src/messaging/duplicate_log.hpp): the class on a
// fake clock with hand-run timers, and the in-memory broker in virtual time.
#include <tomodachi/testing.hpp>
#include <tomodachi/transport/messaging.hpp>

#include <gtest/gtest.h>

#include <deque>
#include <utility>

#include "messaging/duplicate_log.hpp"
#include "test_support.hpp"

namespace {

using messaging_test::LogCapture;
using messaging_test::TestService;
using tomodachi::DuplicateLog;
using tomodachi::LogLevel;
using tomodachi::Message;
using tomodachi::Task;
using tomodachi::testing::Broker;
using namespace std::chrono_literals;

constexpr std::string_view processed_text =
    "ignored duplicate message already processed in the last minute";
constexpr std::string_view in_progress_text =
    "duplicate of a message being handled: delivering it again later";

// A clock moved by hand and the timers DuplicateLog asked for, run by hand.
struct Loop {
  DuplicateLog::Clock::time_point now{};
  std::deque<std::pair<DuplicateLog::Clock::time_point, std::function<void()>>> timers;

  std::function<DuplicateLog::Clock::time_point()> clock() {
    return [this] { return now; };
  }
  DuplicateLog::Schedule schedule() {
    return [this](std::chrono::milliseconds delay, std::function<void()> action) {
      timers.emplace_back(now + delay, std::move(action));
    };
  }
  // Runs the timers due until `until`, moving the clock to each.
  void advance_to(DuplicateLog::Clock::time_point until) {
    while (!timers.empty() && timers.front().first <= until) {
      auto [due, action] = std::move(timers.front());
      timers.pop_front();
      now = due;
      action();
    }
    now = until;
  }
};

std::vector<LogCapture::Entry> at(const std::vector<LogCapture::Entry>& entries, LogLevel level) {
  std::vector<LogCapture::Entry> out;
  for (const auto& e : entries) {
    if (e.level == level) out.push_back(e);
  }
  return out;
}

const tomodachi::Logger handler_logger("tomodachi.amqp.handler",
                                       {{"handler", "on_order"}, {"type", "tomodachi.amqp"}});

TEST(DuplicateLog, OneWarningAtOnceDebugPerCopyAndOneSummaryWhenTheBurstEnds) {
  Loop loop;
  LogCapture logs;
  DuplicateLog log(handler_logger, loop.clock(), loop.schedule());
  const auto start = loop.now;
  for (int i = 0; i < 5; ++i) {
    loop.advance_to(start + i * 100ms);
    log.processed(handler_logger, boost::json::string("u." + std::to_string(i)), {});
  }
  const auto copies = logs.with_message(processed_text);
  ASSERT_EQ(copies.size(), 5u);
  ASSERT_EQ(at(copies, LogLevel::warning).size(), 1u);
  EXPECT_EQ(*copies[0].field("message_uuid"), boost::json::value("u.0"));
  EXPECT_EQ(copies[0].level, LogLevel::warning);
  EXPECT_EQ(at(copies, LogLevel::debug).size(), 4u);
  EXPECT_EQ(*copies[4].field("message_uuid"), boost::json::value("u.4"));
  EXPECT_EQ(log.open_count(DuplicateLog::Kind::processed), 5u);
  // One timer, armed by the second copy; when it fires the burst is still going on
  // (the last copy came 700 ms earlier), so it waits again.
  ASSERT_EQ(loop.timers.size(), 1u);
  loop.advance_to(start + 1399ms);
  EXPECT_TRUE(logs.with_message("ignored 5").empty());
  loop.advance_to(start + 1400ms);
  const auto summaries =
      logs.with_message("ignored 5 duplicate messages already processed in the last minute");
  ASSERT_EQ(summaries.size(), 1u);
  const auto& summary = summaries[0];
  EXPECT_EQ(summary.level, LogLevel::warning);
  EXPECT_EQ(summary.logger, "tomodachi.amqp.handler");
  EXPECT_EQ(*summary.field("count"), boost::json::value(5));
  EXPECT_EQ(*summary.field("handler"), boost::json::value("on_order"));
  ASSERT_NE(summary.field("first_seen"), nullptr);
  ASSERT_NE(summary.field("last_seen"), nullptr);
  EXPECT_LE(summary.field("first_seen")->as_string(), summary.field("last_seen")->as_string());
  EXPECT_EQ(log.open_count(DuplicateLog::Kind::processed), 0u);
  EXPECT_TRUE(loop.timers.empty());

  // The next duplicate starts a new burst: a warning again.
  log.processed(handler_logger, boost::json::string("u.9"), {});
  EXPECT_EQ(at(logs.with_message(processed_text), LogLevel::warning).size(), 2u);
}

TEST(DuplicateLog, ASingleDuplicateIsOneWarningWithoutSummaryOrTimer) {
  Loop loop;
  LogCapture logs;
  DuplicateLog log(handler_logger, loop.clock(), loop.schedule());
  log.processed(handler_logger, boost::json::string("u.1"), {});
  EXPECT_TRUE(loop.timers.empty());
  loop.advance_to(loop.now + 1s);
  // The window passed: the next copy is the first of a new burst (noticed lazily).
  log.processed(handler_logger, boost::json::string("u.1"), {});
  EXPECT_EQ(at(logs.with_message(processed_text), LogLevel::warning).size(), 2u);
  EXPECT_TRUE(logs.with_message("ignored 1 ").empty());
  EXPECT_TRUE(logs.with_message("ignored 2 ").empty());
}

TEST(DuplicateLog, AnOpenBurstIsSummarizedWhenTheSubscriptionGoesAway) {
  Loop loop;
  LogCapture logs;
  {
    DuplicateLog log(handler_logger, loop.clock(), loop.schedule());
    for (int i = 0; i < 3; ++i) log.processed(handler_logger, boost::json::string("u.1"), {});
    EXPECT_TRUE(logs.with_message("ignored 3 ").empty());
  }
  EXPECT_EQ(logs.with_message("ignored 3 duplicate messages").size(), 1u);
  loop.advance_to(loop.now + 5s);  // the timer of a log gone does nothing
  EXPECT_EQ(logs.with_message("ignored 3 duplicate messages").size(), 1u);
}

TEST(DuplicateLog, CopiesOfMessagesBeingHandledHaveTheirOwnBurst) {
  Loop loop;
  LogCapture logs;
  DuplicateLog log(handler_logger, loop.clock(), loop.schedule());
  log.processed(handler_logger, boost::json::string("u.1"), {});
  for (int i = 0; i < 4; ++i)
    log.in_progress(handler_logger, boost::json::string("u.2"), 5000ms, {});
  const auto deferred = logs.with_message(in_progress_text);
  ASSERT_EQ(deferred.size(), 4u);
  EXPECT_EQ(deferred[0].level, LogLevel::warning);
  EXPECT_EQ(*deferred[0].field("retry_in_ms"), boost::json::value(5000));
  EXPECT_EQ(at(deferred, LogLevel::debug).size(), 3u);
  loop.advance_to(loop.now + 1s);
  const auto summaries = logs.with_message(
      "deferred 4 duplicates of messages being handled: delivering them again later");
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(*summaries[0].field("count"), boost::json::value(4));
  EXPECT_EQ(*summaries[0].field("retry_in_ms"), boost::json::value(5000));
  EXPECT_TRUE(logs.with_message("ignored 1 ").empty());  // one processed copy: no summary
}

std::string json_payload(const std::string& message_uuid) {
  return R"({"service": {"name": "s", "uuid": "u"}, "metadata": {"message_uuid": ")" +
         message_uuid + R"(", "data_encoding": "raw"}, "data": "x"})";
}

TEST(DuplicateLog, ABurstOfRedeliveriesThroughTheBrokerIsOneWarningAndOneSummary) {
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
  for (int i = 0; i < 30; ++i) broker.publish_payload("t", json_payload("u.1"));
  broker.run_until_idle();  // the burst's end passes in virtual time
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(broker.stats().acked, 31u);
  const auto copies = logs.with_message(processed_text);
  EXPECT_EQ(at(copies, LogLevel::warning).size(), 1u);
  EXPECT_EQ(at(copies, LogLevel::debug).size(), 29u);
  const auto summaries = logs.with_message("ignored 30 duplicate messages");
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(summaries[0].logger, "tomodachi.amqp.handler");
  EXPECT_EQ(*summaries[0].field("count"), boost::json::value(30));
  EXPECT_EQ(*summaries[0].field("handler"), boost::json::value("handler"));
}

}  // namespace
