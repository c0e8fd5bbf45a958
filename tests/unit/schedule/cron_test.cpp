// Cron parsing rules (spec/schedule.md §3), every cron error message, `L` / `L<weekday>`
// month ends with leap years, and the search checked against a brute-force oracle.
// The spec's §9 vectors are the `upstream_test_vector` cases of fixture_test.cpp.

#include "schedule/cron.hpp"
#include "schedule/engine.hpp"
#include "support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <sstream>

namespace tomodachi::schedule_impl::test_support {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

std::string field(std::string_view expression, CronField which) {
  return CronExpression::parse(expression).describe(which);
}

std::string parse_error(std::string_view expression) {
  try {
    CronExpression::parse(expression);
  } catch (const InvalidCronExpression& error) {
    return error.what();
  }
  return "(parsed)";
}

LocalMinutes wall(std::string_view text) {
  return date::floor<minutes>(
      date::local_seconds{date::floor<std::chrono::seconds>(parse_wall(text)).time_since_epoch()});
}

/// The first `count` matches from `from`, as `YYYY-MM-DDTHH:MM:SS` wall times.
std::vector<std::string> matches(std::string_view expression, std::string_view from, int count) {
  const auto cron = CronExpression::parse(expression);
  std::vector<std::string> found;
  auto cursor = wall(from);
  for (int i = 0; i < count; ++i) {
    const auto match = cron.next_match(cursor);
    if (!match) break;
    found.push_back(naive_iso(date::local_seconds{*match}));
    cursor = *match + minutes{1};
  }
  return found;
}

// ---- value sets ---------------------------------------------------------------------------

TEST(CronParsing, StarAndQuestionMarkAreEveryValue) {
  EXPECT_EQ(field("* * * * *", CronField::minute), "0-59");
  EXPECT_EQ(field("? ? ? ? ?", CronField::hour), "0-23");
  EXPECT_EQ(field("* * * * *", CronField::year), "1970-2099");
}

TEST(CronParsing, StepFromStarKeepsMultiplesEvenWhereTheFieldStartsAtOne) {
  EXPECT_EQ(field("*/15 * * * *", CronField::minute), "0,15,30,45");
  EXPECT_EQ(field("* * */2 * *", CronField::day), "2,4,6,8,10,12,14,16,18,20,22,24,26,28,30");
  EXPECT_EQ(field("* * * */2 *", CronField::month), "2,4,6,8,10,12");
  EXPECT_EQ(field("* * * ?/6 *", CronField::month), "6,12");
}

TEST(CronParsing, StepFromValueKeepsTheSameRemainderNotFromValueUpward) {
  EXPECT_EQ(field("30/20 * * * *", CronField::minute), "10,30,50");
  EXPECT_EQ(field("7/8 * * * *", CronField::minute), "7,15,23,31,39,47,55");
  EXPECT_EQ(field("* * * jan/2 *", CronField::month), "1,3,5,7,9,11");
}

TEST(CronParsing, RangeWithStepStartsAtTheRangeStart) {
  EXPECT_EQ(field("1-3/2 * * * *", CronField::minute), "1,3");
  EXPECT_EQ(field("3-20/2 * * * *", CronField::minute), "3,5,7,9,11,13,15,17,19");
  EXPECT_EQ(field("5-10/3 * * * *", CronField::minute), "5,8");
  EXPECT_EQ(field("* * * * mon-fri/2", CronField::weekday), "1,3,5");
}

TEST(CronParsing, ReversedRangeOutsideWeekdaysIsMinToMax) {
  EXPECT_EQ(field("5-1 * * * *", CronField::minute), "1-5");
  EXPECT_EQ(field("* 20-4 * * *", CronField::hour), "4-20");
}

TEST(CronParsing, WeekdaysFoldSevenIntoSundayAndAcceptARangeEndingOnSunday) {
  EXPECT_EQ(field("* * * * 7", CronField::weekday), "0");
  EXPECT_EQ(field("* * * * 0-7", CronField::weekday), "0-6");
  EXPECT_EQ(field("* * * * 5-7", CronField::weekday), "0,5-6");
  EXPECT_EQ(field("* * * * fri-sun", CronField::weekday), "0,5-6");
  EXPECT_EQ(field("* * * * sat-sun", CronField::weekday), "0,6");
  EXPECT_EQ(field("* * * * sun-fri", CronField::weekday), "0-5");
}

TEST(CronParsing, WeekdayRangesFollowTheSpecForNamesAndNumbersAlike) {
  EXPECT_EQ(field("* * * * 1-sun", CronField::weekday), "0-6");
  EXPECT_EQ(field("* * * * mon-5", CronField::weekday), "1-5");
  EXPECT_EQ(field("* * * * 3-wed", CronField::weekday), "3");
}

TEST(CronParsing, ListsAreTheUnionOfTheirParts) {
  EXPECT_EQ(field("1,2,3-5 * * * *", CronField::minute), "1-5");
  EXPECT_EQ(field("10-15,30,45 * * * *", CronField::minute), "10-15,30,45");
  EXPECT_EQ(field("* * * * wed,tue,sat,mon", CronField::weekday), "1-3,6");
}

TEST(CronParsing, NamesAndLAreCaseInsensitive) {
  EXPECT_EQ(field("* * * JAN-Mar *", CronField::month), "1-3");
  EXPECT_EQ(field("* * * * MON", CronField::weekday), "1");
  EXPECT_TRUE(CronExpression::parse("0 0 L * *").last_day_of_month());
  EXPECT_TRUE(CronExpression::parse("0 0 l * *").last_day_of_month());
  EXPECT_TRUE(CronExpression::parse("0 0 * * LSUN").last_weekday_of_month());
}

TEST(CronParsing, YearsAboveTheRangeAreDroppedFromARange) {
  EXPECT_EQ(field("* * * * * 2098-2101", CronField::year), "2098-2099");
}

TEST(CronParsing, MissingFieldsAreStarsAndFieldsAfterTheSixthAreIgnored) {
  const auto short_form = CronExpression::parse("5 4");
  EXPECT_EQ(short_form.describe(CronField::day), "1-31");
  EXPECT_FALSE(short_form.day_restricted());
  EXPECT_EQ(field("0 0 * * * 2030 whatever", CronField::year), "2030");
  EXPECT_EQ(field("  5\t  4  ", CronField::hour), "4");
}

TEST(CronParsing, RestrictionFlagsFollowTheLiteralStar) {
  EXPECT_FALSE(CronExpression::parse("* * * * *").day_restricted());
  EXPECT_TRUE(CronExpression::parse("* * ? * *").day_restricted());
  EXPECT_TRUE(CronExpression::parse("* * * * ?").weekday_restricted());
  EXPECT_TRUE(CronExpression::parse("* * 1-31 * *").day_restricted());
}

TEST(CronParsing, AliasesAreExactAndCaseSensitive) {
  EXPECT_EQ(field("@hourly", CronField::minute), "0");
  EXPECT_EQ(field("@weekly", CronField::weekday), "0");
  EXPECT_EQ(field("@minutely", CronField::minute), "0-59");
  EXPECT_EQ(parse_error("@Hourly"), "Invalid cron notation: invalid value '@hourly' for minute");
}

// ---- errors -------------------------------------------------------------------------------

TEST(CronErrors, MessagesNameTheOffendingValue) {
  EXPECT_EQ(parse_error("* * * x-dec *"), "Invalid cron notation: invalid value 'x' for month");
  EXPECT_EQ(parse_error("* * * jan-y *"), "Invalid cron notation: invalid value 'y' for month");
  EXPECT_EQ(parse_error("* * * nope *"), "Invalid cron notation: invalid value 'nope' for month");
  EXPECT_EQ(parse_error("jan/2 * * * *"), "Invalid cron notation: invalid value 'jan' for minute");
  EXPECT_EQ(parse_error("*/x * * * *"), "Invalid cron notation: invalid value 'x' for minute");
  EXPECT_EQ(parse_error("1,,2 * * * *"), "Invalid cron notation: invalid value '' for minute");
  EXPECT_EQ(parse_error("-5 * * * *"), "Invalid cron notation: invalid value '' for minute");
  EXPECT_EQ(parse_error("1-2-3 * * * *"),
            "Invalid cron notation: invalid value '1-2-3' for minute");
  EXPECT_EQ(parse_error("1/2/3 * * * *"),
            "Invalid cron notation: invalid value '1/2/3' for minute");
}

TEST(CronErrors, EmptyValueSetOfAnyPart) {
  EXPECT_EQ(parse_error("70 * * *"), "Invalid cron notation: empty value set for minute ('70')");
  EXPECT_EQ(parse_error("5,70 * * * *"),
            "Invalid cron notation: empty value set for minute ('70')");
  EXPECT_EQ(parse_error("* 24 * * *"), "Invalid cron notation: empty value set for hour ('24')");
  EXPECT_EQ(parse_error("* * 0 * *"), "Invalid cron notation: empty value set for day ('0')");
  EXPECT_EQ(parse_error("* * * 13 *"), "Invalid cron notation: empty value set for month ('13')");
  EXPECT_EQ(parse_error("* * * * 8"), "Invalid cron notation: empty value set for weekday ('8')");
  EXPECT_EQ(parse_error("* * * * * 1969"),
            "Invalid cron notation: empty value set for year ('1969')");
  EXPECT_EQ(parse_error("* * * * * 2100-2110"),
            "Invalid cron notation: empty value set for year ('2100-2110')");
}

TEST(CronErrors, ReversedWeekdayRangeNotEndingOnSunday) {
  EXPECT_EQ(parse_error("* * * * wed-mon"),
            "Invalid cron notation: reversed weekday range 'wed-mon'");
  EXPECT_EQ(parse_error("* * * * tue-mon"),
            "Invalid cron notation: reversed weekday range 'tue-mon'");
  EXPECT_EQ(parse_error("* * * * 5-0"), "Invalid cron notation: reversed weekday range '5-0'");
}

TEST(CronErrors, StepZero) {
  EXPECT_EQ(parse_error("*/0 * * * *"), "Invalid cron notation: step 0 in '*/0' for minute");
  EXPECT_EQ(parse_error("* 1-3/0 * * *"), "Invalid cron notation: step 0 in '1-3/0' for hour");
}

TEST(CronErrors, DaysOutOfScopeIgnoringWeekdays) {
  const std::string message =
      "Invalid cron notation: days out of scope: no allowed month of an allowed year has a day ";
  EXPECT_EQ(parse_error("* * 30 2 *"), message + "30");
  EXPECT_EQ(parse_error("0 0 31 4,6 *"), message + "31");
  EXPECT_EQ(parse_error("* 1/5 31 2 mon-fri"), message + "31");
  EXPECT_EQ(parse_error("* * 29 2 * 2017-2019"), message + "29");
  EXPECT_EQ(parse_error("* * 29 2 * 2049-2050,2073-2075,2099-2101"), message + "29");
  EXPECT_NO_THROW(CronExpression::parse("0 0 31 4,7 *"));
  EXPECT_NO_THROW(CronExpression::parse("* * 29 2 * 2048"));
}

TEST(CronErrors, EmptyExpression) {
  EXPECT_EQ(parse_error(""), "Invalid cron notation: empty expression");
  EXPECT_EQ(parse_error(" \t "), "Invalid cron notation: empty expression");
}

// ---- L and L<weekday> ---------------------------------------------------------------------

TEST(CronLastDays, LastDayOfEveryMonthOfALeapYear) {
  EXPECT_EQ(matches("0 0 L * *", "2024-01-01T00:00:00", 12),
            (std::vector<std::string>{
                "2024-01-31T00:00:00", "2024-02-29T00:00:00", "2024-03-31T00:00:00",
                "2024-04-30T00:00:00", "2024-05-31T00:00:00", "2024-06-30T00:00:00",
                "2024-07-31T00:00:00", "2024-08-31T00:00:00", "2024-09-30T00:00:00",
                "2024-10-31T00:00:00", "2024-11-30T00:00:00", "2024-12-31T00:00:00"}));
}

TEST(CronLastDays, LastDayOfFebruaryAcrossLeapRules) {
  EXPECT_EQ(matches("0 0 L 2 *", "2023-01-01T00:00:00", 1),
            std::vector<std::string>{"2023-02-28T00:00:00"});
  // 2000 is a leap year (divisible by 400).
  EXPECT_EQ(matches("0 0 L 2 *", "1999-06-01T00:00:00", 2),
            (std::vector<std::string>{"2000-02-29T00:00:00", "2001-02-28T00:00:00"}));
  EXPECT_EQ(matches("0 0 L 2 *", "2095-03-01T00:00:00", 3),
            (std::vector<std::string>{"2096-02-29T00:00:00", "2097-02-28T00:00:00",
                                      "2098-02-28T00:00:00"}));
  // Nothing at or after 2100.
  EXPECT_EQ(matches("0 0 L 2 *", "2099-03-01T00:00:00", 1), std::vector<std::string>{});
  EXPECT_EQ(matches("0 0 29 2 *", "2096-03-01T00:00:00", 1), std::vector<std::string>{});
}

TEST(CronLastDays, L5IsTheLastFridayOfEachMonth) {
  const std::vector<std::string> last_fridays_2024{
      "2024-01-26T00:00:00", "2024-02-23T00:00:00", "2024-03-29T00:00:00", "2024-04-26T00:00:00",
      "2024-05-31T00:00:00", "2024-06-28T00:00:00", "2024-07-26T00:00:00", "2024-08-30T00:00:00",
      "2024-09-27T00:00:00", "2024-10-25T00:00:00", "2024-11-29T00:00:00", "2024-12-27T00:00:00"};
  EXPECT_EQ(matches("0 0 * * L5", "2024-01-01T00:00:00", 12), last_fridays_2024);
  EXPECT_EQ(matches("0 0 * * Lfri", "2024-01-01T00:00:00", 12), last_fridays_2024);
}

TEST(CronLastDays, LastSundayOfFebruaryInShortAndLeapYears) {
  EXPECT_EQ(matches("0 0 * 2 Lsun", "2015-01-01T00:00:00", 1),
            std::vector<std::string>{"2015-02-22T00:00:00"});
  EXPECT_EQ(matches("0 0 * 2 Lsun", "2016-01-01T00:00:00", 1),
            std::vector<std::string>{"2016-02-28T00:00:00"});
  EXPECT_EQ(matches("0 0 * 2 Lsun", "2020-01-01T00:00:00", 1),
            std::vector<std::string>{"2020-02-23T00:00:00"});
}

TEST(CronLastDays, LAloneInTheWeekdayFieldIsTheLastSevenDays) {
  EXPECT_EQ(
      matches("0 0 * * L", "2024-02-01T00:00:00", 8),
      (std::vector<std::string>{"2024-02-23T00:00:00", "2024-02-24T00:00:00", "2024-02-25T00:00:00",
                                "2024-02-26T00:00:00", "2024-02-27T00:00:00", "2024-02-28T00:00:00",
                                "2024-02-29T00:00:00", "2024-03-25T00:00:00"}));
}

TEST(CronLastDays, LastDayOrAWeekdayWhenBothDayFieldsAreRestricted) {
  EXPECT_EQ(matches("0 12 L * 5", "2017-06-15T10:00:00", 3),
            (std::vector<std::string>{"2017-06-16T12:00:00", "2017-06-23T12:00:00",
                                      "2017-06-30T12:00:00"}));
}

// ---- the search against a brute-force oracle ----------------------------------------------

/// Value sets read back from `describe` (`"0-5,10"`).
std::set<int> values_of(const std::string& text) {
  std::set<int> values;
  std::stringstream parts(text);
  std::string part;
  while (std::getline(parts, part, ',')) {
    const auto dash = part.find('-');
    const int low = std::stoi(part.substr(0, dash));
    const int high = dash == std::string::npos ? low : std::stoi(part.substr(dash + 1));
    for (int value = low; value <= high; ++value) values.insert(value);
  }
  return values;
}

/// An independent matcher: checks every minute of every day in order.
class BruteForceOracle {
 public:
  explicit BruteForceOracle(const CronExpression& cron) : cron_(cron) {
    for (auto which : {CronField::minute, CronField::hour, CronField::day, CronField::month,
                       CronField::weekday, CronField::year}) {
      sets_[static_cast<int>(which)] = values_of(cron.describe(which));
    }
  }

  std::optional<LocalMinutes> next_match(LocalMinutes from, int days_to_search) const {
    const auto first_day = date::floor<date::days>(from);
    for (auto day = first_day; day < first_day + date::days{days_to_search}; day += date::days{1}) {
      if (!day_matches(day)) continue;
      for (auto minute = LocalMinutes{day}; minute < day + date::days{1}; minute += minutes{1}) {
        if (minute >= from && time_matches(minute - day)) return minute;
      }
    }
    return std::nullopt;
  }

 private:
  bool has(CronField which, int value) const {
    return sets_[static_cast<int>(which)].count(value) > 0;
  }

  bool time_matches(minutes since_midnight) const {
    const date::hh_mm_ss<minutes> time{since_midnight};
    return has(CronField::hour, static_cast<int>(time.hours().count())) &&
           has(CronField::minute, static_cast<int>(time.minutes().count()));
  }

  bool day_matches(date::local_days day) const {
    const date::year_month_day ymd{day};
    const int year = static_cast<int>(ymd.year());
    const int month = static_cast<int>(static_cast<unsigned>(ymd.month()));
    const int dom = static_cast<int>(static_cast<unsigned>(ymd.day()));
    const int weekday = static_cast<int>(date::weekday{day}.c_encoding());
    const int month_length = static_cast<int>(static_cast<unsigned>(
        date::year_month_day_last{ymd.year() / ymd.month() / date::last}.day()));
    const bool dom_ok =
        has(CronField::day, dom) && (!cron_.last_day_of_month() || dom == month_length);
    const bool dow_ok = has(CronField::weekday, weekday) &&
                        (!cron_.last_weekday_of_month() || dom > month_length - 7);
    bool day_ok = true;
    if (cron_.day_restricted() && cron_.weekday_restricted()) {
      day_ok = dom_ok || dow_ok;
    } else if (cron_.day_restricted()) {
      day_ok = dom_ok;
    } else if (cron_.weekday_restricted()) {
      day_ok = dow_ok;
    }
    return day_ok && has(CronField::year, year) && has(CronField::month, month);
  }

  const CronExpression& cron_;
  std::array<std::set<int>, 6> sets_;
};

std::string random_field(std::mt19937& random, int low, int high,
                         const std::vector<std::string>& extras) {
  std::uniform_int_distribution<int> kind(0, 5 + static_cast<int>(extras.size()));
  std::uniform_int_distribution<int> value(low, high);
  std::uniform_int_distribution<int> step(2, 7);
  switch (const int choice = kind(random); choice) {
    case 0:
    case 1:
      return "*";
    case 2:
      return std::to_string(value(random));
    case 3: {
      const int a = value(random);
      return std::to_string(a) + "-" + std::to_string(std::min(high, a + step(random)));
    }
    case 4:
      return "*/" + std::to_string(step(random));
    case 5:
      return std::to_string(value(random)) + "," + std::to_string(value(random));
    default:
      return extras[static_cast<std::size_t>(choice - 6)];
  }
}

TEST(CronSearch, AgreesWithBruteForceOnRandomExpressions) {
  std::mt19937 random(20240405);
  std::uniform_int_distribution<int> start_day(0, 365 * 4);
  std::uniform_int_distribution<int> start_minute(0, 24 * 60 - 1);
  constexpr int days_to_search = 400;
  int compared = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string expression = random_field(random, 0, 59, {}) + " " +
                                   random_field(random, 0, 23, {}) + " " +
                                   random_field(random, 1, 31, {"L", "?"}) + " " +
                                   random_field(random, 1, 12, {"feb", "jan/3"}) + " " +
                                   random_field(random, 0, 6, {"mon-fri", "Lsun", "fri-sun"});
    std::optional<CronExpression> cron;
    try {
      cron = CronExpression::parse(expression);
    } catch (const InvalidCronExpression&) {
      continue;  // e.g. days out of scope
    }
    const LocalMinutes from = LocalMinutes{date::local_days{date::year{2016} / 1 / 1}} +
                              date::days{start_day(random)} + minutes{start_minute(random)};
    const auto expected = BruteForceOracle(*cron).next_match(from, days_to_search);
    const auto found = cron->next_match(from);
    if (expected) {
      ASSERT_TRUE(found.has_value()) << expression;
      EXPECT_EQ(naive_iso(date::local_seconds{*found}), naive_iso(date::local_seconds{*expected}))
          << expression << " from " << naive_iso(date::local_seconds{from});
    } else if (found) {
      EXPECT_GE(*found, from + date::days{days_to_search}) << expression;
    }
    ++compared;
  }
  EXPECT_GT(compared, 250);
}

}  // namespace
}  // namespace tomodachi::schedule_impl::test_support
