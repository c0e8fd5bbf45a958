// The compiled schedule: interval and timestamp forms, the DST rule in Europe/Stockholm
// and America/New_York, drift-free integer intervals, and every start-up error message.

#include "schedule/engine.hpp"
#include "support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace tomodachi::schedule_impl::test_support {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = std::chrono::system_clock::time_point;

Schedule compile(const ScheduleSpec& spec) { return Schedule::compile(spec, Zone::utc()); }

std::string compile_error(const ScheduleSpec& spec) {
  try {
    compile(spec);
  } catch (const ScheduleError& error) {
    return error.what();
  }
  return "(compiled)";
}

/// The first `count` due times after `from`, each computed from the previous one (as the
/// scheduler loop does), shown on the wall clock of `zone` with their UTC offset.
std::vector<std::string> runs(const ScheduleSpec& spec, std::string_view from_utc, int count) {
  const auto schedule = compile(spec);
  const Zone zone = resolve_timezone(spec.timezone.value_or("UTC"));
  std::vector<std::string> shown;
  TimePoint t = utc(from_utc);
  for (int i = 0; i < count; ++i) {
    const auto next = schedule.next_after(t);
    if (!next) break;
    shown.push_back(aware_iso(zone, date::floor<seconds>(*next)));
    t = *next;
  }
  return shown;
}

ScheduleSpec cron_in(std::string expression, std::string zone) {
  return ScheduleSpec{.interval = std::move(expression), .timezone = std::move(zone)};
}

using Runs = std::vector<std::string>;

// ---- interval texts -----------------------------------------------------------------------

TEST(IntervalText, EveryAliasOfTheSpecTable) {
  const std::map<std::string, std::vector<std::string>> table{
      {"1",
       {"every second", "1s", "1 s", "1second", "1 second", "second", "secondly",
        "once per second"}},
      {"@minutely",
       {"every minute", "1m", "1 m", "1minute", "1 minute", "minute", "minutely",
        "once per minute"}},
      {"@hourly",
       {"every hour", "1h", "1 h", "1hour", "1 hour", "hour", "hourly", "once per hour"}},
      {"@daily",
       {"every day", "1d", "1 d", "1day", "1 day", "day", "daily", "once per day", "nightly"}},
      {"@monthly", {"every month", "1month", "1 month", "month", "monthly", "once per month"}},
      {"@yearly",
       {"every year", "1y", "1 y", "1year", "1 year", "year", "yearly", "once per year",
        "annually"}},
      {"0 0 * * 1",
       {"monday", "mondays", "mon", "every monday", "once per monday", "weekly", "once per week",
        "week", "every week"}},
      {"0 0 * * 2", {"tuesday", "tuesdays", "tue", "every tuesday", "once per tuesday"}},
      {"0 0 * * 3", {"wednesday", "wednesdays", "wed", "every wednesday", "once per wednesday"}},
      {"0 0 * * 4", {"thursday", "thursdays", "thu", "every thursday", "once per thursday"}},
      {"0 0 * * 5", {"friday", "fridays", "fri", "every friday", "once per friday"}},
      {"0 0 * * 6", {"saturday", "saturdays", "sat", "every saturday", "once per saturday"}},
      {"0 0 * * 0", {"sunday", "sundays", "sun", "every sunday", "once per sunday"}},
      {"0 0 * * 1-5", {"weekday", "weekdays", "every weekday"}},
      {"0 0 * * 0,6", {"weekend", "weekends", "every weekend"}},
  };
  for (const auto& [meaning, spellings] : table) {
    for (const auto& spelling : spellings) {
      const auto interpreted = interpret_interval_text(spelling);
      const std::string shown = std::holds_alternative<std::int64_t>(interpreted)
                                    ? std::to_string(std::get<std::int64_t>(interpreted))
                                    : std::get<std::string>(interpreted);
      EXPECT_EQ(shown, meaning) << spelling;
    }
  }
}

TEST(IntervalText, SecondsForms) {
  for (const auto& [text, expected] : std::map<std::string, std::int64_t>{{"3 seconds", 3},
                                                                          {"30s", 30},
                                                                          {"5 s", 5},
                                                                          {"10 seconds", 10},
                                                                          {"100S", 100},
                                                                          {"1 seconds", 1},
                                                                          {"+5s", 5},
                                                                          {"2 Seconds", 2}}) {
    const auto interpreted = interpret_interval_text(text);
    ASSERT_TRUE(std::holds_alternative<std::int64_t>(interpreted)) << text;
    EXPECT_EQ(std::get<std::int64_t>(interpreted), expected) << text;
  }
}

TEST(IntervalText, AnythingElseIsLowerCasedCron) {
  EXPECT_EQ(std::get<std::string>(interpret_interval_text("10")), "10");
  EXPECT_EQ(std::get<std::string>(interpret_interval_text("*/15 8-18 * * MON-FRI")),
            "*/15 8-18 * * mon-fri");
  EXPECT_EQ(std::get<std::string>(interpret_interval_text("@Hourly")), "@hourly");
  EXPECT_EQ(std::get<std::string>(interpret_interval_text("every 5 seconds")), "every 5 seconds");
}

TEST(IntervalText, ANumberInAStringIsACronMinute) {
  EXPECT_EQ(runs({.interval = "10"}, "2017-06-15T10:16:50", 2),
            (Runs{"2017-06-15T11:10:00+00:00", "2017-06-15T12:10:00+00:00"}));
}

// ---- integer intervals --------------------------------------------------------------------

TEST(IntegerInterval, DueTimesAreStartPlusMultiplesWithoutDrift) {
  const auto schedule = compile({.interval = 5});
  const TimePoint start = utc("2024-01-01T00:00:00") + milliseconds{123};
  TimePoint due = start;
  for (int k = 1; k <= 10000; ++k) due = *schedule.next_after(due);
  EXPECT_EQ(due, start + seconds{5 * 10000});
  EXPECT_EQ(schedule.period(), seconds{5});
}

TEST(IntegerInterval, IgnoresTimeZonesAndDst) {
  const auto schedule = compile({.interval = 3600, .timezone = "America/New_York"});
  const TimePoint before_fall_back = utc("2024-11-03T05:30:00");
  EXPECT_EQ(*schedule.next_after(before_fall_back), before_fall_back + seconds{3600});
}

TEST(IntegerInterval, DurationsAndTextAreTheSameSchedule) {
  const TimePoint t = utc("2017-06-15T10:16:50");
  EXPECT_EQ(compile({.interval = std::chrono::minutes{2}}).next_after(t), t + seconds{120});
  EXPECT_EQ(compile({.interval = "120 seconds"}).next_after(t), t + seconds{120});
}

// ---- precedence and "never" ---------------------------------------------------------------

TEST(ScheduleRules, IntervalWinsOverTimestamp) {
  const auto schedule = compile({.interval = 5, .timestamp = "not a timestamp"});
  const TimePoint t = utc("2017-06-15T10:16:50");
  EXPECT_EQ(schedule.next_after(t), t + seconds{5});
}

TEST(ScheduleRules, NeitherIntervalNorTimestampNeverRuns) {
  const auto schedule = compile({.immediately = true});
  EXPECT_EQ(schedule.next_after(utc("2017-06-15T10:16:50")), std::nullopt);
  EXPECT_TRUE(schedule.immediately());
}

TEST(ScheduleRules, DueTimesAreStrictlyAfterTheGivenTime) {
  const auto schedule = compile({.interval = "0 12 * * *"});
  EXPECT_EQ(schedule.next_after(utc("2017-06-15T12:00:00")), utc("2017-06-16T12:00:00"));
  EXPECT_EQ(schedule.next_after(utc("2017-06-15T11:59:59.999999")), utc("2017-06-15T12:00:00"));
}

TEST(ScheduleRules, OneShotTimestampRunsOnceThenNever) {
  const auto schedule = compile({.timestamp = "2030-01-01 00:00:30"});
  const auto first = schedule.next_after(utc("2017-06-15T10:16:50"));
  ASSERT_EQ(first, utc("2030-01-01T00:00:30"));
  EXPECT_EQ(schedule.next_after(*first), std::nullopt);
}

TEST(ScheduleRules, CronThatNeverFiresAgainIsNeverNotAnError) {
  EXPECT_EQ(compile({.interval = "* * * * * 2016"}).next_after(utc("2017-06-15T10:16:50")),
            std::nullopt);
}

TEST(ScheduleRules, EmptyTimezoneMeansTheLocalZone) {
  const auto schedule =
      Schedule::compile({.interval = "0 12 * * *", .timezone = ""}, Zone::named("Asia/Tokyo"));
  EXPECT_EQ(schedule.next_after(utc("2017-06-15T00:00:00")), utc("2017-06-15T03:00:00"));
}

TEST(ScheduleRules, DescriptionsForLogs) {
  EXPECT_EQ(compile({.interval = 1}).description(), "every second");
  EXPECT_EQ(compile({.interval = "5 seconds"}).description(), "every 5 seconds");
  EXPECT_EQ(compile(cron_in("*/5 * * * *", "Europe/Stockholm")).description(),
            "cron \"*/5 * * * *\" (Europe/Stockholm)");
  EXPECT_EQ(compile({.interval = "hourly"}).description(), "cron \"@hourly\" (UTC)");
  EXPECT_EQ(compile({.timestamp = "8:05"}).description(), "every day at 08:05:00 (UTC)");
  EXPECT_EQ(compile({.timestamp = "2030-01-01 00:00:30", .timezone = "GMT +01:00"}).description(),
            "once at 2030-01-01 00:00:30 (Etc/GMT-1)");
}

// ---- timestamps ---------------------------------------------------------------------------

TEST(TimestampText, FormsAndLeniencyOfStrptime) {
  const auto daily = parse_timestamp("8:5");
  ASSERT_TRUE(daily);
  EXPECT_FALSE(daily->date);
  EXPECT_EQ(daily->hour, 8);
  EXPECT_EQ(daily->minute, 5);
  EXPECT_EQ(daily->second, 0);
  const auto once = parse_timestamp("2017-6-5  10:16:09");
  ASSERT_TRUE(once);
  EXPECT_EQ(once->date, date::year{2017} / 6 / 5);
  EXPECT_EQ(once->second, 9);
  EXPECT_TRUE(parse_timestamp("2017-06-15\t10:16"));
  for (const char* bad : {"bad", "25:00", "10:60", "10:00:60", "2017-02-29 10:00", " 10:00",
                          "10:00 ", "10", "10:00:00:00", "17-06-15 10:00", "2017-06-15"}) {
    EXPECT_FALSE(parse_timestamp(bad)) << bad;
  }
}

TEST(TimestampSchedule, DailyWithSecondsRunsTodayWhileStillAhead) {
  EXPECT_EQ(runs({.timestamp = "10:16:55"}, "2017-06-15T10:16:50", 2),
            (Runs{"2017-06-15T10:16:55+00:00", "2017-06-16T10:16:55+00:00"}));
  EXPECT_EQ(runs({.timestamp = "10:16:45"}, "2017-06-15T10:16:50", 1),
            Runs{"2017-06-16T10:16:45+00:00"});
}

TEST(TimestampSchedule, InAZoneWhoseDateDiffersFromUtc) {
  EXPECT_EQ(
      runs({.timestamp = "23:30:00", .timezone = "America/New_York"}, "2017-06-16T02:00:00", 2),
      (Runs{"2017-06-15T23:30:00-04:00", "2017-06-16T23:30:00-04:00"}));
}

// ---- DST: Europe/Stockholm (2024-03-31 02:00 → 03:00, 2024-10-27 03:00 → 02:00) ----------

TEST(DstStockholm, TimeInTheSpringGapFiresOnceAtTheEndOfTheGap) {
  EXPECT_EQ(runs(cron_in("30 2 * * *", "Europe/Stockholm"), "2024-03-30T12:00:00", 3),
            (Runs{"2024-03-31T03:00:00+02:00", "2024-04-01T02:30:00+02:00",
                  "2024-04-02T02:30:00+02:00"}));
  EXPECT_EQ(runs(cron_in("0 2 * * *", "Europe/Stockholm"), "2024-03-30T12:00:00", 2),
            (Runs{"2024-03-31T03:00:00+02:00", "2024-04-01T02:00:00+02:00"}));
}

TEST(DstStockholm, EveryMinuteOfTheSkippedHourCollapsesIntoOneRun) {
  EXPECT_EQ(runs(cron_in("* 2 * * *", "Europe/Stockholm"), "2024-03-31T00:30:00", 3),
            (Runs{"2024-03-31T03:00:00+02:00", "2024-04-01T02:00:00+02:00",
                  "2024-04-01T02:01:00+02:00"}));
  EXPECT_EQ(
      runs(cron_in("*/30 1-3 * * *", "Europe/Stockholm"), "2024-03-30T23:00:00", 5),
      (Runs{"2024-03-31T01:00:00+01:00", "2024-03-31T01:30:00+01:00", "2024-03-31T03:00:00+02:00",
            "2024-03-31T03:30:00+02:00", "2024-04-01T01:00:00+02:00"}));
}

TEST(DstStockholm, RepeatedTimeFiresOnceAtItsFirstOccurrence) {
  EXPECT_EQ(runs(cron_in("30 2 * * *", "Europe/Stockholm"), "2024-10-26T12:00:00", 2),
            (Runs{"2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"}));
  EXPECT_EQ(runs(cron_in("0 * * * *", "Europe/Stockholm"), "2024-10-26T22:00:00", 4),
            (Runs{"2024-10-27T01:00:00+02:00", "2024-10-27T02:00:00+02:00",
                  "2024-10-27T03:00:00+01:00", "2024-10-27T04:00:00+01:00"}));
}

TEST(DstStockholm, SecondPassOfTheRepeatedHourIsSkippedEvenForEveryMinute) {
  EXPECT_EQ(runs(cron_in("* * * * *", "Europe/Stockholm"), "2024-10-27T00:58:30", 3),
            (Runs{"2024-10-27T02:59:00+02:00", "2024-10-27T03:00:00+01:00",
                  "2024-10-27T03:01:00+01:00"}));
  // Starting inside the second pass (02:20 CET): the next new wall time is 03:00.
  EXPECT_EQ(runs(cron_in("*/15 * * * *", "Europe/Stockholm"), "2024-10-27T01:20:00", 2),
            (Runs{"2024-10-27T03:00:00+01:00", "2024-10-27T03:15:00+01:00"}));
}

TEST(DstStockholm, TimestampsFollowTheSameRule) {
  EXPECT_EQ(
      runs({.timestamp = "02:30:15", .timezone = "Europe/Stockholm"}, "2024-03-30T12:00:00", 2),
      (Runs{"2024-03-31T03:00:00+02:00", "2024-04-01T02:30:15+02:00"}));
  EXPECT_EQ(
      runs({.timestamp = "02:30:15", .timezone = "Europe/Stockholm"}, "2024-10-26T12:00:00", 2),
      (Runs{"2024-10-27T02:30:15+02:00", "2024-10-28T02:30:15+01:00"}));
  EXPECT_EQ(runs({.timestamp = "2024-03-31 02:30", .timezone = "Europe/Stockholm"},
                 "2024-03-30T12:00:00", 2),
            Runs{"2024-03-31T03:00:00+02:00"});
}

/// Runs of a daily schedule over a whole year, counted per local date.
std::map<std::string, int> runs_per_local_day(const ScheduleSpec& spec, int year) {
  const auto schedule = compile(spec);
  const Zone zone = resolve_timezone(*spec.timezone);
  const auto begin = zone.to_instant(date::local_days{date::year{year} / 1 / 1});
  const auto end = zone.to_instant(date::local_days{date::year{year + 1} / 1 / 1});
  std::map<std::string, int> counts;
  TimePoint t = begin - seconds{1};
  for (auto next = schedule.next_after(t); next && *next < end; next = schedule.next_after(t)) {
    ++counts[date::format("%F", zone.to_local(date::floor<seconds>(*next)))];
    t = *next;
  }
  return counts;
}

TEST(DstStockholm, ADailyJobRunsExactlyOnceOnEveryDayOfTheYear) {
  for (const char* time : {"30 2 * * *", "0 2 * * *", "59 2 * * *", "0 3 * * *", "0 0 * * *"}) {
    const auto counts = runs_per_local_day(cron_in(time, "Europe/Stockholm"), 2024);
    EXPECT_EQ(counts.size(), 366u) << time;
    for (const auto& [day, count] : counts) EXPECT_EQ(count, 1) << time << " on " << day;
  }
}

// ---- DST: America/New_York (2024-03-10 02:00 → 03:00, 2024-11-03 02:00 → 01:00) ---------

TEST(DstNewYork, TimeInTheSpringGapFiresOnceAtTheEndOfTheGap) {
  EXPECT_EQ(runs(cron_in("30 2 * * *", "America/New_York"), "2024-03-09T17:00:00", 2),
            (Runs{"2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00"}));
  EXPECT_EQ(runs(cron_in("0 * * * *", "America/New_York"), "2024-03-10T04:00:00", 4),
            (Runs{"2024-03-10T00:00:00-05:00", "2024-03-10T01:00:00-05:00",
                  "2024-03-10T03:00:00-04:00", "2024-03-10T04:00:00-04:00"}));
}

TEST(DstNewYork, RepeatedTimeFiresOnceAtItsFirstOccurrence) {
  EXPECT_EQ(runs(cron_in("30 1 * * *", "America/New_York"), "2024-11-02T12:00:00", 2),
            (Runs{"2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"}));
  EXPECT_EQ(runs(cron_in("0 * * * *", "America/New_York"), "2024-11-03T03:00:00", 4),
            (Runs{"2024-11-03T00:00:00-04:00", "2024-11-03T01:00:00-04:00",
                  "2024-11-03T02:00:00-05:00", "2024-11-03T03:00:00-05:00"}));
}

TEST(DstNewYork, ADailyJobRunsExactlyOnceOnEveryDayOfTheYear) {
  for (const char* time : {"30 2 * * *", "30 1 * * *", "0 9 * * *"}) {
    const auto counts = runs_per_local_day(cron_in(time, "America/New_York"), 2024);
    EXPECT_EQ(counts.size(), 366u) << time;
    for (const auto& [day, count] : counts) EXPECT_EQ(count, 1) << time << " on " << day;
  }
}

TEST(DstNewYork, WeekdayMorningsKeepTheirWallClockAcrossTheChange) {
  EXPECT_EQ(runs(cron_in("0 9 * * mon-fri", "America/New_York"), "2024-03-08T20:00:00", 2),
            (Runs{"2024-03-11T09:00:00-04:00", "2024-03-12T09:00:00-04:00"}));
}

// ---- start-up errors ----------------------------------------------------------------------

TEST(ScheduleErrors, InvalidInterval) {
  EXPECT_EQ(compile_error({.interval = 0}),
            "Invalid interval: 0 (an interval must be at least 1 second)");
  EXPECT_EQ(compile_error({.interval = -5}),
            "Invalid interval: -5 (an interval must be at least 1 second)");
  EXPECT_EQ(compile_error({.interval = "-5s"}),
            "Invalid interval: '-5s' (an interval must be at least 1 second)");
  EXPECT_EQ(compile_error({.interval = "0 seconds"}),
            "Invalid interval: '0 seconds' (an interval must be at least 1 second)");
  EXPECT_EQ(compile_error({.interval = "5 minutes"}),
            "Invalid interval: '5 minutes' (not seconds, an alias or a valid cron expression: "
            "invalid value 'minutes' for hour)");
  EXPECT_EQ(compile_error({.interval = "seconds"}),
            "Invalid interval: 'seconds' (not seconds, an alias or a valid cron expression: "
            "invalid value 'seconds' for minute)");
  EXPECT_EQ(compile_error({.interval = "every 5 seconds"}),
            "Invalid interval: 'every 5 seconds' (not seconds, an alias or a valid cron "
            "expression: invalid value 'every' for minute)");
  EXPECT_EQ(compile_error({.interval = "* * 30 2 *"}),
            "Invalid interval: '* * 30 2 *' (not seconds, an alias or a valid cron expression: "
            "days out of scope: no allowed month of an allowed year has a day 30)");
  EXPECT_EQ(compile_error({.interval = ""}),
            "Invalid interval: '' (not seconds, an alias or a valid cron expression: "
            "empty expression)");
}

TEST(ScheduleErrors, InvalidTimestamp) {
  const std::string formats =
      "no supported timestamp format matched; use HH:MM, HH:MM:SS, YYYY-MM-DD HH:MM or "
      "YYYY-MM-DD HH:MM:SS";
  EXPECT_EQ(compile_error({.timestamp = "bad"}), "Invalid timestamp: 'bad' (" + formats + ")");
  EXPECT_EQ(compile_error({.timestamp = "25:00"}), "Invalid timestamp: '25:00' (" + formats + ")");
  EXPECT_EQ(compile_error({.timestamp = "2150-01-01 00:00"}),
            "Invalid timestamp: '2150-01-01 00:00' (the year must be within 1970-2099)");
  EXPECT_EQ(compile_error({.timestamp = "1969-12-31 23:59:59"}),
            "Invalid timestamp: '1969-12-31 23:59:59' (the year must be within 1970-2099)");
}

TEST(ScheduleErrors, UnknownTimezoneEvenForIntegerIntervals) {
  EXPECT_EQ(compile_error({.interval = 5, .timezone = "Mars/Olympus"}),
            "Unknown timezone: Mars/Olympus");
  EXPECT_EQ(compile_error({.timestamp = "08:00", .timezone = "GMT +13"}),
            "Unknown timezone: GMT +13");
  EXPECT_EQ(compile_error({.interval = "hourly", .timezone = "+05:30"}),
            "Unknown timezone: +05:30");
}

}  // namespace
}  // namespace tomodachi::schedule_impl::test_support
