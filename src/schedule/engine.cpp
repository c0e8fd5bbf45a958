#include "schedule/engine.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <utility>
#include <vector>

namespace tomodachi::schedule_impl {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// ---- interval texts (spec/schedule.md §2) ----------------------------------------------

struct IntervalAlias {
  std::vector<std::string_view> spellings;
  std::variant<std::int64_t, std::string_view> meaning;
};

const std::array<IntervalAlias, 15>& interval_aliases() {
  static const std::array<IntervalAlias, 15> aliases{{
      {{"every second", "1s", "1 s", "1second", "1 second", "second", "secondly",
        "once per second"},
       std::int64_t{1}},
      {{"every minute", "1m", "1 m", "1minute", "1 minute", "minute", "minutely",
        "once per minute"},
       "@minutely"},
      {{"every hour", "1h", "1 h", "1hour", "1 hour", "hour", "hourly", "once per hour"},
       "@hourly"},
      {{"every day", "1d", "1 d", "1day", "1 day", "day", "daily", "once per day", "nightly"},
       "@daily"},
      {{"every month", "1month", "1 month", "month", "monthly", "once per month"}, "@monthly"},
      {{"every year", "1y", "1 y", "1year", "1 year", "year", "yearly", "once per year",
        "annually"},
       "@yearly"},
      {{"monday", "mondays", "mon", "every monday", "once per monday", "weekly", "once per week",
        "week", "every week"},
       "0 0 * * 1"},
      {{"tuesday", "tuesdays", "tue", "every tuesday", "once per tuesday"}, "0 0 * * 2"},
      {{"wednesday", "wednesdays", "wed", "every wednesday", "once per wednesday"}, "0 0 * * 3"},
      {{"thursday", "thursdays", "thu", "every thursday", "once per thursday"}, "0 0 * * 4"},
      {{"friday", "fridays", "fri", "every friday", "once per friday"}, "0 0 * * 5"},
      {{"saturday", "saturdays", "sat", "every saturday", "once per saturday"}, "0 0 * * 6"},
      {{"sunday", "sundays", "sun", "every sunday", "once per sunday"}, "0 0 * * 0"},
      {{"weekday", "weekdays", "every weekday"}, "0 0 * * 1-5"},
      {{"weekend", "weekends", "every weekend"}, "0 0 * * 0,6"},
  }};
  return aliases;
}

std::string lower_case(std::string_view text) {
  std::string result(text);
  for (char& c : result) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

std::string remove_all(std::string text, std::string_view piece) {
  for (auto position = text.find(piece); position != std::string::npos;
       position = text.find(piece, position)) {
    text.erase(position, piece.size());
  }
  return text;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

/// Python's `int()` of a short text: optional sign, digits, surrounding whitespace.
std::optional<std::int64_t> parse_integer(std::string_view text) { return python_int(trim(text)); }

/// `"3 seconds"`, `"30s"`, `"5 s"`: upstream removes every `seconds`, then every `s`,
/// then every space, and reads the rest as an integer.
std::optional<std::int64_t> seconds_in_text(const std::string& lowered) {
  if (!lowered.ends_with('s')) return std::nullopt;
  return parse_integer(remove_all(remove_all(remove_all(lowered, "seconds"), "s"), " "));
}

// ---- timestamps (spec/schedule.md §5) --------------------------------------------------

/// Reads the fields of a strptime-like format: `Y` four digits, `m d H M S` one or two
/// digits, a space one or more whitespace characters, anything else itself.
class TimestampScanner {
 public:
  explicit TimestampScanner(std::string_view text) : text_(text) {}

  std::optional<Timestamp> scan(std::string_view format) {
    int year = 0;
    int month = 0;
    int day = 0;
    Timestamp timestamp;
    for (char directive : format) {
      bool ok = true;
      switch (directive) {
        case 'Y':
          ok = number(4, 4, 1, 9999, year);
          break;
        case 'm':
          ok = number(1, 2, 1, 12, month);
          break;
        case 'd':
          ok = number(1, 2, 1, 31, day);
          break;
        case 'H':
          ok = number(1, 2, 0, 23, timestamp.hour);
          break;
        case 'M':
          ok = number(1, 2, 0, 59, timestamp.minute);
          break;
        case 'S':
          ok = number(1, 2, 0, 59, timestamp.second);
          break;
        case ' ':
          ok = whitespace();
          break;
        default:
          ok = literal(directive);
          break;
      }
      if (!ok) return std::nullopt;
    }
    if (position_ != text_.size()) return std::nullopt;
    if (year != 0) {
      date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                               date::day{static_cast<unsigned>(day)}};
      if (!ymd.ok()) return std::nullopt;
      timestamp.date = ymd;
    }
    return timestamp;
  }

 private:
  bool number(std::size_t min_digits, std::size_t max_digits, int low, int high, int& out) {
    std::size_t digits = 0;
    int value = 0;
    while (digits < max_digits && position_ + digits < text_.size() &&
           std::isdigit(static_cast<unsigned char>(text_[position_ + digits]))) {
      value = value * 10 + (text_[position_ + digits] - '0');
      ++digits;
    }
    if (digits < min_digits || value < low || value > high) return false;
    position_ += digits;
    out = value;
    return true;
  }

  bool whitespace() {
    const auto start = position_;
    while (position_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[position_]))) {
      ++position_;
    }
    return position_ > start;
  }

  bool literal(char c) {
    if (position_ >= text_.size() || text_[position_] != c) return false;
    ++position_;
    return true;
  }

  std::string_view text_;
  std::size_t position_ = 0;
};

// ---- compiling ---------------------------------------------------------------------------

std::string single_quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

[[noreturn]] void throw_invalid_interval(std::string_view shown, std::string_view reason) {
  throw ScheduleError("Invalid interval: " + std::string(shown) + " (" + std::string(reason) + ")");
}

[[noreturn]] void throw_invalid_timestamp(std::string_view text, std::string_view reason) {
  throw ScheduleError("Invalid timestamp: " + single_quoted(text) + " (" + std::string(reason) +
                      ")");
}

seconds checked_period(std::int64_t period, std::string_view shown) {
  if (period < 1) throw_invalid_interval(shown, "an interval must be at least 1 second");
  return seconds{period};
}

std::string describe_period(seconds period) {
  return period == seconds{1} ? "every second"
                              : "every " + std::to_string(period.count()) + " seconds";
}

std::string describe_zone(const Zone& zone) { return " (" + zone.name() + ")"; }

std::string two_digits(int value) { return (value < 10 ? "0" : "") + std::to_string(value); }

std::string timestamp_cron(const Timestamp& timestamp) {
  std::string text = std::to_string(timestamp.minute) + " " + std::to_string(timestamp.hour);
  if (!timestamp.date) return text + " * * *";
  const auto& day = *timestamp.date;
  return text + " " + std::to_string(static_cast<unsigned>(day.day())) + " " +
         std::to_string(static_cast<unsigned>(day.month())) + " * " +
         std::to_string(static_cast<int>(day.year()));
}

std::string describe_timestamp(const Timestamp& timestamp) {
  std::string time = two_digits(timestamp.hour) + ":" + two_digits(timestamp.minute) + ":" +
                     two_digits(timestamp.second);
  if (!timestamp.date) return "every day at " + time;
  return "once at " + date::format("%F", date::sys_days{*timestamp.date}) + " " + time;
}

}  // namespace

std::variant<std::int64_t, std::string> interpret_interval_text(std::string_view text) {
  const std::string lowered = lower_case(text);
  if (auto seconds_value = seconds_in_text(lowered)) return *seconds_value;
  for (const IntervalAlias& alias : interval_aliases()) {
    if (std::find(alias.spellings.begin(), alias.spellings.end(), lowered) ==
        alias.spellings.end()) {
      continue;
    }
    if (const auto* period = std::get_if<std::int64_t>(&alias.meaning)) return *period;
    return std::string(std::get<std::string_view>(alias.meaning));
  }
  return lowered;
}

std::optional<Timestamp> parse_timestamp(std::string_view text) {
  for (std::string_view format : {"Y-m-d H:M:S", "Y-m-d H:M", "H:M:S", "H:M"}) {
    if (auto timestamp = TimestampScanner(text).scan(format)) return timestamp;
  }
  return std::nullopt;
}

WallClockRule::WallClockRule(CronExpression cron, Zone zone, std::chrono::seconds shift)
    : cron_(std::move(cron)), zone_(std::move(zone)), shift_(shift) {}

std::optional<date::sys_seconds> WallClockRule::first_at_or_after(
    date::sys_seconds threshold) const {
  // Wall times up to the one shown just before `threshold` map to instants before it
  // (the mapping is monotonic), so the search starts right after that wall time. Wall
  // times in a gap that ends exactly at `threshold` are included this way.
  const auto wall_floor = zone_.to_local(threshold - seconds{1}) + seconds{1} - shift_;
  auto candidate = date::ceil<minutes>(wall_floor);
  for (;;) {
    const auto match = cron_.next_match(candidate);
    if (!match) return std::nullopt;
    const auto instant = zone_.to_instant(*match + shift_);
    // Earlier instants belong to the second pass of a repeated (fall-back) hour.
    if (instant >= threshold) return instant;
    candidate = *match + minutes{1};
  }
}

std::optional<date::sys_seconds> next_cron_time(const CronExpression& cron, const Zone& zone,
                                                std::chrono::system_clock::time_point now) {
  const auto minute_start = date::floor<minutes>(now);
  const bool in_first_second = now - minute_start < seconds{1};
  const date::sys_seconds threshold{in_first_second ? minute_start : minute_start + minutes{1}};
  return WallClockRule(cron, zone).first_at_or_after(threshold);
}

Schedule::Schedule(Rule rule, bool immediately, std::string description)
    : rule_(std::move(rule)), immediately_(immediately), description_(std::move(description)) {}

Schedule Schedule::compile(const ScheduleSpec& spec, const Zone& local_zone) {
  const bool has_zone = spec.timezone && !spec.timezone->empty();
  const Zone zone = has_zone ? resolve_timezone(*spec.timezone) : local_zone;

  if (spec.interval && spec.interval->is_seconds()) {
    const std::int64_t value = spec.interval->seconds();
    const seconds period = checked_period(value, std::to_string(value));
    return Schedule(period, spec.immediately, describe_period(period));
  }
  if (spec.interval) {
    const std::string& text = spec.interval->text();
    auto meaning = interpret_interval_text(text);
    if (const auto* period_value = std::get_if<std::int64_t>(&meaning)) {
      const seconds period = checked_period(*period_value, single_quoted(text));
      return Schedule(period, spec.immediately, describe_period(period));
    }
    const std::string& expression = std::get<std::string>(meaning);
    try {
      WallClockRule rule(CronExpression::parse(expression), zone);
      return Schedule(std::move(rule), spec.immediately,
                      "cron \"" + expression + "\"" + describe_zone(zone));
    } catch (const InvalidCronExpression& error) {
      throw_invalid_interval(single_quoted(text),
                             "not seconds, an alias or a valid cron expression: " + error.detail());
    }
  }
  if (spec.timestamp) {
    const auto timestamp = parse_timestamp(*spec.timestamp);
    if (!timestamp) {
      throw_invalid_timestamp(*spec.timestamp,
                              "no supported timestamp format matched; use HH:MM, HH:MM:SS, "
                              "YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS");
    }
    if (timestamp->date) {
      const int year = static_cast<int>(timestamp->date->year());
      if (year < first_cron_year || year > last_cron_year) {
        throw_invalid_timestamp(*spec.timestamp, "the year must be within 1970-2099");
      }
    }
    WallClockRule rule(CronExpression::parse(timestamp_cron(*timestamp)), zone,
                       seconds{timestamp->second});
    return Schedule(std::move(rule), spec.immediately,
                    describe_timestamp(*timestamp) + describe_zone(zone));
  }
  return Schedule(Never{}, spec.immediately, "never (no interval or timestamp)");
}

std::optional<Schedule::TimePoint> Schedule::next_after(TimePoint t) const {
  if (const auto* period = std::get_if<seconds>(&rule_)) return t + *period;
  if (const auto* rule = std::get_if<WallClockRule>(&rule_)) {
    const auto threshold = date::floor<seconds>(t) + seconds{1};
    auto instant = rule->first_at_or_after(threshold);
    if (!instant) return std::nullopt;
    return TimePoint{*instant};
  }
  return std::nullopt;
}

std::optional<std::chrono::seconds> Schedule::period() const {
  if (const auto* period = std::get_if<seconds>(&rule_)) return *period;
  return std::nullopt;
}

}  // namespace tomodachi::schedule_impl
