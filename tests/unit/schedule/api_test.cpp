// The public API of <tomodachi/schedule.hpp>: ScheduleSpec forms, the typed helpers,
// ScheduleInvocation and the handler adapters.

#include <tomodachi/schedule.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace tomodachi {
namespace {

using namespace std::chrono_literals;
using ::testing::StartsWith;

TEST(ScheduleInterval, HoldsSecondsOrTextAsGiven) {
  const ScheduleInterval from_int = 5;
  EXPECT_TRUE(from_int.is_seconds());
  EXPECT_EQ(from_int.seconds(), 5);
  EXPECT_EQ(from_int.to_string(), "5");

  const ScheduleInterval from_duration = 2min;
  EXPECT_EQ(from_duration.seconds(), 120);

  const ScheduleInterval from_literal = "*/5 * * * *";
  EXPECT_FALSE(from_literal.is_seconds());
  EXPECT_EQ(from_literal.text(), "*/5 * * * *");
  EXPECT_EQ(from_literal.to_string(), "*/5 * * * *");

  const std::string text = "Hourly";
  EXPECT_EQ(ScheduleInterval(text).to_string(), "Hourly");
  EXPECT_EQ(ScheduleInterval(std::string_view("3 seconds")).text(), "3 seconds");
}

TEST(ScheduleSpec, DesignatedInitializersReadLikePython) {
  const ScheduleSpec spec{
      .interval = "every monday", .timezone = "Europe/Stockholm", .immediately = true};
  EXPECT_EQ(spec.interval->text(), "every monday");
  EXPECT_FALSE(spec.timestamp);
  EXPECT_EQ(spec.timezone, "Europe/Stockholm");
  EXPECT_TRUE(spec.immediately);
  EXPECT_EQ(ScheduleSpec{.interval = 30s}.interval->seconds(), 30);
}

TEST(ScheduleHelpers, EveryCronAtFillTheSameSpec) {
  const ScheduleSpec periodic = every(5s);
  EXPECT_EQ(periodic.interval->seconds(), 5);
  EXPECT_FALSE(periodic.timezone);
  EXPECT_FALSE(periodic.immediately);

  const ScheduleSpec crontab = cron("*/15 8-18 * * mon-fri", "GMT +01:00");
  EXPECT_EQ(crontab.interval->text(), "*/15 8-18 * * mon-fri");
  EXPECT_EQ(crontab.timezone, "GMT +01:00");

  const ScheduleSpec daily = at("08:00", "Europe/Stockholm");
  EXPECT_FALSE(daily.interval);
  EXPECT_EQ(daily.timestamp, "08:00");
  EXPECT_EQ(daily.timezone, "Europe/Stockholm");

  const ScheduleSpec right_away = every(1h).run_immediately();
  EXPECT_TRUE(right_away.immediately);
  EXPECT_EQ(right_away.interval->seconds(), 3600);
}

TEST(ScheduleValidation, RegistrationRejectsSchedulesThatCannotRun) {
  EXPECT_NO_THROW(detail::validate_schedule(every(5s)));
  EXPECT_NO_THROW(detail::validate_schedule(cron("@hourly", "Europe/Stockholm")));
  EXPECT_NO_THROW(detail::validate_schedule(at("2022-08-01 08:00", "Europe/Stockholm")));
  EXPECT_NO_THROW(detail::validate_schedule({}));
  try {
    detail::validate_schedule(cron("5 minutes"));
    FAIL() << "validated";
  } catch (const ScheduleError& error) {
    EXPECT_THAT(error.what(), StartsWith("Invalid interval: '5 minutes'"));
  }
  EXPECT_THROW(detail::validate_schedule(at("bad")), ScheduleError);
  EXPECT_THROW(detail::validate_schedule(every(0s)), ScheduleError);
  EXPECT_THROW(detail::validate_schedule(at("08:00", "Nowhere/Special")), ScheduleError);
}

TEST(ScheduleInvocation, InvocationTimeIsIsoUtcWithWholeSeconds) {
  const ScheduleInvocation invocation{
      .invocation_time = std::chrono::system_clock::time_point{1691948649s + 873ms}};
  EXPECT_EQ(invocation.invocation_time_iso(), "2023-08-13T17:44:09Z");
}

/// Runs one invocation of `invoke` to completion on a fresh loop.
void run_once(const ScheduleHandlerSpec::Invoke& invoke, const ScheduleInvocation& invocation) {
  boost::asio::io_context loop;
  boost::asio::co_spawn(loop, invoke(invocation), boost::asio::detached);
  loop.run();
}

TEST(ScheduleCallables, WithoutArgumentsOrWithTheInvocation) {
  int calls = 0;
  auto plain = detail::bind_scheduled_callable([&calls]() -> Task<void> {
    ++calls;
    co_return;
  });
  std::string seen_interval;
  auto with_invocation =
      detail::bind_scheduled_callable([&seen_interval](const ScheduleInvocation& invocation) {
        seen_interval = invocation.interval->to_string();
        return []() -> Task<void> { co_return; }();
      });
  const ScheduleInvocation invocation{.interval = ScheduleInterval("3 seconds")};
  run_once(plain, invocation);
  run_once(plain, invocation);
  run_once(with_invocation, invocation);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(seen_interval, "3 seconds");
}

// Every registration form, on a real service: members returning Task<void> or void, with
// and without the invocation, the callable form, and the shorthands.
class Reports : public Service {
 public:
  Reports() : Service("reports") {
    schedule<&Reports::tick>(every(5s));
    schedule<&Reports::with_invocation>(cron("*/5 * * * *", "Europe/Stockholm"));
    schedule<&Reports::plain>(at("08:00"));
    schedule<&Reports::plain_with_invocation>({.interval = 10, .immediately = true});
    schedule({.interval = "hourly"}, "lambda", [this]() -> Task<void> {
      calls.push_back("lambda");
      co_return;
    });
    heartbeat<&Reports::tick>();
    every_second<&Reports::tick>();
    minutely<&Reports::tick>();
    hourly<&Reports::tick>();
    daily<&Reports::tick>();
    monthly<&Reports::tick>();
  }

  std::vector<std::string> calls;

 private:
  Task<void> tick() {
    calls.push_back("tick");
    co_return;
  }
  Task<void> with_invocation(const ScheduleInvocation& invocation) {
    calls.push_back("with_invocation:" + invocation.interval->to_string());
    co_return;
  }
  void plain() { calls.push_back("plain"); }
  void plain_with_invocation(const ScheduleInvocation& invocation) {
    calls.push_back("plain_with_invocation:" + invocation.interval->to_string());
  }
};

TEST(ScheduleRegistrations, EveryFormRegistersAndRunsItsFunction) {
  Reports reports;
  struct Registered {
    std::string name;
    std::string when;  // interval text, or `at <timestamp>`
    std::string qualified_name;
  };
  std::vector<Registered> registered;
  for (const auto& handler : reports.handlers()) {
    const auto* spec = dynamic_cast<const ScheduleHandlerSpec*>(handler.get());
    ASSERT_NE(spec, nullptr) << handler->name;
    EXPECT_EQ(spec->transport, "schedule");
    const std::string when =
        spec->when.interval ? spec->when.interval->to_string() : "at " + *spec->when.timestamp;
    registered.push_back({spec->name, when, spec->qualified_name});
    run_once(spec->invoke, ScheduleInvocation{.interval = spec->when.interval});
  }
  const std::vector<Registered> expected{
      {"tick", "5", "Reports.tick"},
      {"with_invocation", "*/5 * * * *", "Reports.with_invocation"},
      {"plain", "at 08:00", "Reports.plain"},
      {"plain_with_invocation", "10", "Reports.plain_with_invocation"},
      {"lambda", "hourly", "lambda"},
      {"tick", "1", "Reports.tick"},  // heartbeat
      {"tick", "1", "Reports.tick"},  // every_second
      {"tick", "minutely", "Reports.tick"},
      {"tick", "hourly", "Reports.tick"},
      {"tick", "daily", "Reports.tick"},
      {"tick", "monthly", "Reports.tick"},
  };
  ASSERT_EQ(registered.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(registered[i].name, expected[i].name) << i;
    EXPECT_EQ(registered[i].when, expected[i].when) << i;
    EXPECT_EQ(registered[i].qualified_name, expected[i].qualified_name) << i;
  }
  const auto& specs = reports.handlers();
  const auto& cron_spec = dynamic_cast<const ScheduleHandlerSpec&>(*specs[1]);
  EXPECT_EQ(cron_spec.when.timezone, "Europe/Stockholm");
  EXPECT_TRUE(dynamic_cast<const ScheduleHandlerSpec&>(*specs[3]).when.immediately);
  EXPECT_EQ(reports.calls, (std::vector<std::string>{"tick", "with_invocation:*/5 * * * *", "plain",
                                                     "plain_with_invocation:10", "lambda", "tick",
                                                     "tick", "tick", "tick", "tick", "tick"}));
}

TEST(ScheduleHandlerSpec, IsAScheduleRegistration) {
  const ScheduleHandlerSpec spec("tick", every(5s),
                                 [](const ScheduleInvocation&) -> Task<void> { co_return; });
  EXPECT_EQ(spec.transport, "schedule");
  EXPECT_EQ(spec.name, "tick");
  EXPECT_EQ(spec.when.interval->seconds(), 5);
}

}  // namespace
}  // namespace tomodachi
