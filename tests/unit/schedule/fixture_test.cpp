// Every case of tests/fixtures/upstream/cron.json: the reference ("correct") answers,
// except the cases listed in tests/fixtures/deliberate_differences/schedule.json.

#include "schedule/cron.hpp"
#include "schedule/engine.hpp"
#include "schedule/zone.hpp"
#include "support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace tomodachi::schedule_impl::test_support {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::ValuesIn;

date::sys_time<std::chrono::microseconds> instant_of_wall(
    const Zone& zone, date::local_time<std::chrono::microseconds> wall) {
  const auto whole = date::floor<std::chrono::seconds>(wall);
  return zone.to_instant(whole) + (wall - whole);
}

/// The message inside upstream-style `kind (detail)`, e.g. `invalid cron (x)` → `x`.
std::string inner_detail(const std::string& message) {
  const auto open = message.find('(');
  const auto close = message.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return message;
  return message.substr(open + 1, close - open - 1);
}

const boost::json::object* deliberate_difference(const std::string& id) {
  const auto& cases = deliberate_differences();
  auto found = cases.find(id);
  return found == cases.end() ? nullptr : &found->value().as_object();
}

void expect_parsed_sets(const CronExpression& cron, const boost::json::object& parsed) {
  const std::map<std::string, CronField> fields{
      {"minute", CronField::minute}, {"hour", CronField::hour},       {"day", CronField::day},
      {"month", CronField::month},   {"weekday", CronField::weekday}, {"year", CronField::year}};
  for (const auto& [name, field] : fields) {
    EXPECT_EQ(cron.describe(field), text_of(parsed.at(name))) << "field " << name;
  }
  EXPECT_EQ(cron.day_restricted(), parsed.at("day_restricted").as_bool());
  EXPECT_EQ(cron.weekday_restricted(), parsed.at("weekday_restricted").as_bool());
  EXPECT_EQ(cron.last_day_of_month(), parsed.at("last_day_of_month").as_bool());
  EXPECT_EQ(cron.last_weekday_of_month(), parsed.at("last_weekday_of_month").as_bool());
}

void expect_cron_error(const std::string& cron_text, const boost::json::object& error) {
  const std::string message = text_of(error.at("message"));
  try {
    CronExpression::parse(cron_text);
    ADD_FAILURE() << "'" << cron_text << "' parsed; expected error: " << message;
  } catch (const InvalidCronExpression& caught) {
    EXPECT_THAT(caught.what(), StartsWith("Invalid cron notation: " + message));
  }
}

// ---- get_next_datetime vectors ------------------------------------------------------------

class CronVector : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(CronVector, NextTimeIsTheReferenceAnswer) {
  const auto& input = GetParam().data.at("input").as_object();
  const auto& expected = GetParam().data.at("expected").as_object();
  const auto& correct = expected.at("correct").as_object();
  const std::string cron_text = text_of(input.at("cron"));
  if (correct.contains("error")) {
    expect_cron_error(cron_text, correct.at("error").as_object());
    return;
  }
  const auto cron = CronExpression::parse(cron_text);
  if (expected.contains("parsed")) expect_parsed_sets(cron, expected.at("parsed").as_object());

  const bool aware = !input.at("now_tz").is_null();
  const Zone zone = aware ? Zone::named(text_of(input.at("now_tz"))) : Zone::utc();
  const auto now = instant_of_wall(zone, parse_wall(text_of(input.at("now"))));
  const auto next = next_cron_time(cron, zone, now);
  if (correct.at("next").is_null()) {
    EXPECT_FALSE(next.has_value()) << utc_iso(*next);
    return;
  }
  ASSERT_TRUE(next.has_value());
  const std::string shown = aware ? aware_iso(zone, *next) : naive_iso(zone.to_local(*next));
  EXPECT_EQ(shown, text_of(correct.at("next")));
}

std::vector<FixtureCase> cron_vector_cases() {
  auto cases = fixture_cases("upstream_test_vector");
  for (const char* kind : {"spec_vector", "quirk_vector"}) {
    auto more = fixture_cases(kind);
    cases.insert(cases.end(), more.begin(), more.end());
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(CronJson, CronVector, ValuesIn(cron_vector_cases()),
                         case_name<FixtureCase>);

// ---- random expressions, next 5 runs ------------------------------------------------------

class RandomNext5 : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(RandomNext5, RunsAreTheReferenceRuns) {
  const auto& input = GetParam().data.at("input").as_object();
  const auto& expected = GetParam().data.at("expected").as_object();
  const auto cron = CronExpression::parse(text_of(input.at("cron")));
  expect_parsed_sets(cron, expected.at("parsed").as_object());

  const Zone zone = Zone::utc();
  std::vector<std::string> runs;
  std::chrono::system_clock::time_point now = utc(text_of(input.at("now")));
  for (int run = 0; run < 5; ++run) {
    const auto next = next_cron_time(cron, zone, now);
    if (!next) break;
    runs.push_back(naive_iso(zone.to_local(*next)));
    now = *next + std::chrono::seconds{1};
  }
  std::vector<std::string> reference;  // a null run means "never again"
  for (const auto& value : expected.at("correct").as_array()) {
    if (value.is_null()) break;
    reference.push_back(text_of(value));
  }
  EXPECT_EQ(runs, reference);
}

INSTANTIATE_TEST_SUITE_P(CronJson, RandomNext5, ValuesIn(fixture_cases("random_next5")),
                         case_name<FixtureCase>);

// ---- Scheduler.next_call_at: intervals and timestamps --------------------------------------

/// What a case expects from us: its deliberate difference, else the reference answer.
const boost::json::object& expectation_of(const FixtureCase& fixture_case) {
  if (const auto* difference = deliberate_difference(fixture_case.id)) {
    return difference->at("ours").as_object();
  }
  return fixture_case.data.at("expected").at("correct").as_object();
}

void expect_next_call(const ScheduleSpec& spec, const boost::json::object& input,
                      const boost::json::object& expected, std::string_view error_kind) {
  const auto now = from_epoch(input.at("current_time_epoch").to_number<double>());
  if (expected.contains("error")) {
    const auto& error = expected.at("error");
    try {
      Schedule::compile(spec, Zone::utc());
      ADD_FAILURE() << "compiled; expected " << error_kind;
    } catch (const ScheduleError& caught) {
      EXPECT_THAT(caught.what(), StartsWith(std::string(error_kind)));
      if (error.is_object()) {
        EXPECT_THAT(caught.what(), HasSubstr(inner_detail(text_of(error.at("message")))));
      }
    }
    return;
  }
  const auto schedule = Schedule::compile(spec, Zone::utc());
  const auto next = schedule.next_after(now);
  if (expected.contains("never") && expected.at("never").as_bool()) {
    EXPECT_FALSE(next.has_value()) << utc_iso(*next);
    return;
  }
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(epoch_of(*next), expected.at("next_epoch").to_number<long long>()) << utc_iso(*next);
}

class IntervalVector : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(IntervalVector, NextCallIsTheReferenceAnswer) {
  const auto& input = GetParam().data.at("input").as_object();
  ASSERT_TRUE(input.at("timezone").is_null());
  const auto& interval = input.at("interval");
  ScheduleSpec spec;
  if (interval.is_int64()) {
    spec.interval = interval.as_int64();
  } else {
    spec.interval = text_of(interval);
  }
  expect_next_call(spec, input, expectation_of(GetParam()), "Invalid interval");
}

INSTANTIATE_TEST_SUITE_P(CronJson, IntervalVector, ValuesIn(fixture_cases("interval")),
                         case_name<FixtureCase>);

class TimestampVector : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(TimestampVector, NextCallIsTheReferenceAnswer) {
  const auto& input = GetParam().data.at("input").as_object();
  ScheduleSpec spec{.timestamp = text_of(input.at("timestamp"))};
  if (!input.at("timezone").is_null()) spec.timezone = text_of(input.at("timezone"));
  expect_next_call(spec, input, expectation_of(GetParam()), "Invalid timestamp");
}

INSTANTIATE_TEST_SUITE_P(CronJson, TimestampVector, ValuesIn(fixture_cases("timestamp")),
                         case_name<FixtureCase>);

// ---- time zones ---------------------------------------------------------------------------

class TimezoneAliasVector : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(TimezoneAliasVector, ResolvesLikeUpstream) {
  const std::string name = text_of(GetParam().data.at("input").at("timezone"));
  const auto& expected = GetParam().data.at("expected").as_object();
  if (expected.contains("error")) {
    const std::string message = text_of(expected.at("error").at("message"));
    try {
      resolve_timezone(name);
      ADD_FAILURE() << name << " resolved; expected " << message;
    } catch (const ScheduleError& caught) {
      EXPECT_EQ(std::string(caught.what()), message);
    }
    return;
  }
  EXPECT_EQ(resolve_timezone_alias(name), text_of(expected.at("resolved")));
  EXPECT_NO_THROW(resolve_timezone(name));
}

INSTANTIATE_TEST_SUITE_P(CronJson, TimezoneAliasVector, ValuesIn(fixture_cases("timezone_alias")),
                         case_name<FixtureCase>);

std::vector<long long> epochs_of(const boost::json::array& runs) {
  std::vector<long long> epochs;
  for (const auto& run : runs) {
    epochs.push_back(run.is_object() ? run.at("next_epoch").to_number<long long>()
                                     : run.to_number<long long>());
  }
  return epochs;
}

/// The expected runs: our deliberate answer, else `correct_first_occurrence_only` when the
/// case is listed for it, else `correct`.
std::vector<long long> expected_zone_runs(const FixtureCase& fixture_case) {
  const auto& expected = fixture_case.data.at("expected").as_object();
  const auto* difference = deliberate_difference(fixture_case.id);
  if (!difference) return epochs_of(expected.at("correct").as_array());
  const std::string compare_with = text_of(difference->at("compare_with"));
  if (compare_with == "ours") return epochs_of(difference->at("ours").as_array());
  return epochs_of(expected.at(compare_with).as_array());
}

class TimezoneNext5 : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(TimezoneNext5, RunsFollowTheWallClockWithOurDstRule) {
  const auto& input = GetParam().data.at("input").as_object();
  const ScheduleSpec spec{.interval = text_of(input.at("cron")),
                          .timezone = text_of(input.at("timezone"))};
  const auto schedule = Schedule::compile(spec, Zone::utc());
  std::vector<long long> runs;
  auto t = from_epoch(input.at("current_time_epoch").to_number<double>());
  for (int run = 0; run < 5; ++run) {
    const auto next = schedule.next_after(t);
    ASSERT_TRUE(next.has_value());
    runs.push_back(epoch_of(*next));
    t = *next;
  }
  EXPECT_EQ(runs, expected_zone_runs(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(CronJson, TimezoneNext5, ValuesIn(fixture_cases("timezone_next5")),
                         case_name<FixtureCase>);

// ---- the fixture and the list of deliberate differences ------------------------------------

TEST(CronJsonFixture, EveryCaseKindIsCovered) {
  EXPECT_EQ(cron_fixture().at("cases").as_array().size(), 410u);
  const std::map<std::string, std::size_t> counts{
      {"upstream_test_vector", 77}, {"spec_vector", 21},   {"quirk_vector", 55},
      {"random_next5", 70},         {"interval", 118},     {"timestamp", 20},
      {"timezone_alias", 29},       {"timezone_next5", 20}};
  std::size_t total = 0;
  for (const auto& [kind, count] : counts) {
    EXPECT_EQ(fixture_cases(kind).size(), count) << kind;
    total += count;
  }
  EXPECT_EQ(total, 410u);
}

const FixtureCase* find_case(const std::string& id) {
  static const auto all = [] {
    std::vector<FixtureCase> cases;
    for (const auto& entry : cron_fixture().at("cases").as_array()) {
      cases.push_back({text_of(entry.at("id")), entry.as_object()});
    }
    return cases;
  }();
  for (const auto& fixture_case : all) {
    if (fixture_case.id == id) return &fixture_case;
  }
  return nullptr;
}

TEST(DeliberateDifferences, EveryListedCaseExistsAndReallyDiffers) {
  ASSERT_FALSE(deliberate_differences().empty());
  for (const auto& [key, value] : deliberate_differences()) {
    const std::string id(key);
    const auto* fixture_case = find_case(id);
    ASSERT_NE(fixture_case, nullptr) << id;
    const auto& difference = value.as_object();
    EXPECT_FALSE(text_of(difference.at("reason")).empty()) << id;
    const auto& expected = fixture_case->data.at("expected").as_object();
    const std::string compare_with = text_of(difference.at("compare_with"));
    if (compare_with == "ours") {
      EXPECT_NE(boost::json::value(difference.at("ours")), expected.at("correct")) << id;
      continue;
    }
    ASSERT_TRUE(expected.contains(compare_with)) << id;
    EXPECT_NE(epochs_of(expected.at(compare_with).as_array()),
              epochs_of(expected.at("correct").as_array()))
        << id;
  }
}

TEST(DeliberateDifferences, EveryRepeatedLocalTimeCaseIsListed) {
  for (const auto& fixture_case : fixture_cases("timezone_next5")) {
    const auto& expected = fixture_case.data.at("expected").as_object();
    if (epochs_of(expected.at("correct").as_array()) ==
        epochs_of(expected.at("correct_first_occurrence_only").as_array())) {
      continue;
    }
    EXPECT_NE(deliberate_difference(fixture_case.id), nullptr) << fixture_case.id;
  }
}

}  // namespace
}  // namespace tomodachi::schedule_impl::test_support
