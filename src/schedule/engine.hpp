#pragma once
// The schedule engine: a ScheduleSpec compiled once (validated, zone resolved) into a
// rule that answers "when is the function due next?".

#include "schedule/cron.hpp"
#include "schedule/zone.hpp"

#include <tomodachi/schedule.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace tomodachi::schedule_impl {

/// What an interval text means (spec/schedule.md §2): whole seconds (`"5 s"`,
/// `"every second"`), or a cron expression (an alias's expansion, or the lower-cased text
/// itself, not validated here).
std::variant<std::int64_t, std::string> interpret_interval_text(std::string_view text);

/// A parsed `timestamp` (spec/schedule.md §5).
struct Timestamp {
  std::optional<date::year_month_day> date;  ///< set: once, that day; unset: every day
  int hour = 0;
  int minute = 0;
  int second = 0;
};

/// `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD HH:MM`, `HH:MM:SS` or `HH:MM` (fields of one or two
/// digits, a four-digit year, any run of whitespace between date and time), else nullopt.
std::optional<Timestamp> parse_timestamp(std::string_view text);

/// The minutes a cron expression matches, on the wall clock of a zone, each shifted by
/// `shift` (the seconds of `timestamp="HH:MM:SS"`), mapped to instants with the DST rule
/// of `Zone::to_instant`.
class WallClockRule {
 public:
  WallClockRule(CronExpression cron, Zone zone, std::chrono::seconds shift = {});

  /// The first firing instant at or after `threshold`; nullopt: none before 2100.
  std::optional<date::sys_seconds> first_at_or_after(date::sys_seconds threshold) const;

  const Zone& zone() const noexcept { return zone_; }

 private:
  CronExpression cron_;
  Zone zone_;
  std::chrono::seconds shift_;
};

/// Upstream's `get_next_datetime(cron, now)`: the first matching minute at or after `now`
/// rounded up to a whole minute, where a `now` within the first second of a minute keeps
/// that minute.
std::optional<date::sys_seconds> next_cron_time(const CronExpression& cron, const Zone& zone,
                                                std::chrono::system_clock::time_point now);

/// When a scheduled function is due.
class Schedule {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  /// Validates and resolves `spec`; cron and timestamp schedules without a timezone use
  /// `local_zone`. Throws ScheduleError with the spec's messages.
  static Schedule compile(const ScheduleSpec& spec, const Zone& local_zone);

  /// The first due time strictly after `t`; nullopt: never again. For integer intervals
  /// it is `t + period`, so feeding back the previous due time never drifts.
  std::optional<TimePoint> next_after(TimePoint t) const;

  /// The period of an integer interval (due times are start + k·period), else nullopt.
  std::optional<std::chrono::seconds> period() const;

  bool immediately() const noexcept { return immediately_; }

  /// For logs: `every 5 seconds`, `cron "0 * * * *" (Europe/Stockholm)`, ...
  const std::string& description() const noexcept { return description_; }

 private:
  struct Never {};
  using Rule = std::variant<Never, std::chrono::seconds, WallClockRule>;

  Schedule(Rule rule, bool immediately, std::string description);

  Rule rule_;
  bool immediately_;
  std::string description_;
};

}  // namespace tomodachi::schedule_impl
