#pragma once
// Cron expressions as upstream tomodachi parses them (spec/schedule.md §3) and the
// search for the next matching wall-clock minute (§4, the correct search, not
// upstream's heuristic).

#include <tomodachi/schedule.hpp>

#include <date/date.h>

#include <array>
#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tomodachi::schedule_impl {

/// A wall-clock minute (no zone attached).
using LocalMinutes = date::local_time<std::chrono::minutes>;

/// An invalid cron expression; the message starts with `Invalid cron notation: `.
class InvalidCronExpression : public ScheduleError {
 public:
  explicit InvalidCronExpression(const std::string& detail);
  /// The text after `Invalid cron notation: `, e.g. `invalid value 'x' for month`.
  const std::string& detail() const noexcept { return detail_; }

 private:
  std::string detail_;
};

enum class CronField { minute, hour, day, month, weekday, year };

/// Years a cron expression can name (upstream's range); no match at or after 2100.
inline constexpr int first_cron_year = 1970;
inline constexpr int last_cron_year = 2099;

/// A parsed cron expression: one value set per field plus upstream's day flags.
class CronExpression {
 public:
  /// Parses 5 or 6 whitespace-separated fields (missing trailing fields are `*`, fields
  /// after the sixth are ignored) or an alias `@yearly`, `@annually`, `@monthly`,
  /// `@weekly`, `@daily`, `@hourly`, `@minutely` (exact, case-sensitive). Names and `L`
  /// are case-insensitive. Throws InvalidCronExpression.
  static CronExpression parse(std::string_view text);

  /// The earliest wall-clock minute at or after `from` that matches; nullopt when there
  /// is none before the year 2100.
  std::optional<LocalMinutes> next_match(LocalMinutes from) const;

  /// Whether the date satisfies the day rule (day of month / day of week, `L` flags).
  bool matches_day(date::year_month_day day) const;

  /// The value set of `field` in compact form (`"0-5,10,20-22"`, weekday 0 = Sunday).
  std::string describe(CronField field) const;

  /// The day-of-month field is not the literal `*` (`?` counts as restricted).
  bool day_restricted() const noexcept { return day_restricted_; }
  bool weekday_restricted() const noexcept { return weekday_restricted_; }
  /// `L` in the day-of-month field: the day must also be the month's last.
  bool last_day_of_month() const noexcept { return last_day_of_month_; }
  /// `L<weekday>`: the weekday must also be its last occurrence in the month.
  bool last_weekday_of_month() const noexcept { return last_weekday_of_month_; }

 private:
  struct Cursor;

  bool has(CronField field, int value) const;
  std::optional<int> first_at_or_after(CronField field, int value) const;
  bool day_of_month_matches(unsigned day, unsigned last_day) const;
  bool weekday_matches(unsigned day, unsigned weekday, unsigned last_day) const;
  void check_days_in_scope() const;

  /// Per field, bit `v - minimum` is set when value `v` is allowed.
  using ValueSet = std::bitset<last_cron_year - first_cron_year + 1>;
  std::array<ValueSet, 6> values_;
  bool day_restricted_ = false;
  bool weekday_restricted_ = false;
  bool last_day_of_month_ = false;
  bool last_weekday_of_month_ = false;
};

/// Python's `int()` of a short text without surrounding whitespace: optional sign, then
/// decimal digits that fit 64 bits; anything else is nullopt.
std::optional<std::int64_t> python_int(std::string_view text);

}  // namespace tomodachi::schedule_impl
