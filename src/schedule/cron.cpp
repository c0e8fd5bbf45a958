#include "schedule/cron.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <utility>
#include <vector>

namespace tomodachi::schedule_impl {
namespace {

using NamedValue = std::pair<std::string_view, int>;

constexpr std::array<NamedValue, 12> month_names{{{"jan", 1},
                                                  {"feb", 2},
                                                  {"mar", 3},
                                                  {"apr", 4},
                                                  {"may", 5},
                                                  {"jun", 6},
                                                  {"jul", 7},
                                                  {"aug", 8},
                                                  {"sep", 9},
                                                  {"oct", 10},
                                                  {"nov", 11},
                                                  {"dec", 12}}};
constexpr std::array<NamedValue, 7> weekday_names{
    {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3}, {"thu", 4}, {"fri", 5}, {"sat", 6}}};

constexpr std::array<std::pair<std::string_view, std::string_view>, 7> cron_aliases{{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
    {"@minutely", "* * * * *"},
}};

/// How one field is written: its name in messages, the values a part may name
/// (weekday 7 = Sunday is folded into 0 after parsing) and the names it accepts.
struct FieldRule {
  CronField field;
  std::string_view name;
  int minimum;
  int maximum;
  const NamedValue* names_begin = nullptr;
  const NamedValue* names_end = nullptr;
};

constexpr std::array<FieldRule, 6> field_rules{{
    {CronField::minute, "minute", 0, 59},
    {CronField::hour, "hour", 0, 23},
    {CronField::day, "day", 1, 31},
    {CronField::month, "month", 1, 12, month_names.data(), month_names.data() + month_names.size()},
    {CronField::weekday, "weekday", 0, 7, weekday_names.data(),
     weekday_names.data() + weekday_names.size()},
    {CronField::year, "year", first_cron_year, last_cron_year},
}};

const FieldRule& rule_of(CronField field) { return field_rules[static_cast<std::size_t>(field)]; }

/// Largest value a field holds after parsing (weekday 7 is stored as 0).
int stored_maximum(const FieldRule& rule) {
  return rule.field == CronField::weekday ? 6 : rule.maximum;
}

std::string lower_case(std::string_view text) {
  std::string result(text);
  for (char& c : result) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

std::vector<std::string_view> split_whitespace(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t position = 0;
  while (position < text.size()) {
    while (position < text.size() && std::isspace(static_cast<unsigned char>(text[position]))) {
      ++position;
    }
    std::size_t end = position;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    if (end > position) words.push_back(text.substr(position, end - position));
    position = end;
  }
  return words;
}

/// Splits at every `separator`, keeping empty pieces (Python's `str.split(sep)`).
std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  std::size_t start = 0;
  for (;;) {
    auto end = text.find(separator, start);
    pieces.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return pieces;
    start = end + 1;
  }
}

bool contains(std::string_view text, char c) { return text.find(c) != std::string_view::npos; }

/// A non-negative integer as Python's `int()` reads one here (optional `+`).
std::optional<std::int64_t> parse_number(std::string_view text) {
  const auto value = python_int(text);
  if (!value || *value < 0 || text.starts_with('-')) return std::nullopt;
  return value;
}

std::optional<std::int64_t> value_of(const FieldRule& rule, std::string_view text) {
  auto named = std::find_if(rule.names_begin, rule.names_end,
                            [&](const NamedValue& entry) { return entry.first == text; });
  if (named != rule.names_end) return named->second;
  return parse_number(text);
}

InvalidCronExpression invalid_value(const FieldRule& rule, std::string_view value) {
  return InvalidCronExpression("invalid value '" + std::string(value) + "' for " +
                               std::string(rule.name));
}

/// Values of one comma-separated part, as bits `value - minimum` over the parse range.
struct PartValues {
  std::bitset<last_cron_year - first_cron_year + 1> bits;
  bool last = false;
};

template <typename Predicate>
void keep_values(PartValues& part, const FieldRule& rule, Predicate keep) {
  for (int value = rule.minimum; value <= rule.maximum; ++value) {
    if (!keep(static_cast<std::int64_t>(value))) part.bits.reset(value - rule.minimum);
  }
}

void apply_range(PartValues& part, const FieldRule& rule, std::string_view text) {
  auto pieces = split(text, '-');
  if (pieces.size() != 2) throw invalid_value(rule, text);
  std::string_view first = pieces[0];
  std::string_view second = pieces[1].substr(0, pieces[1].find('/'));
  if (first.starts_with('l')) {
    part.last = true;
    first.remove_prefix(1);
  }
  auto a = value_of(rule, first);
  if (!a) throw invalid_value(rule, first);
  auto b = value_of(rule, second);
  if (!b) throw invalid_value(rule, second);
  if (rule.field == CronField::weekday && *b < *a) {
    if (second != "sun") {
      throw InvalidCronExpression("reversed weekday range '" + std::string(text) + "'");
    }
    b = 7;
  }
  auto [low, high] = std::minmax(*a, *b);
  keep_values(part, rule,
              [low = low, high = high](std::int64_t x) { return x >= low && x <= high; });
}

void apply_step(PartValues& part, const FieldRule& rule, std::string_view text) {
  auto pieces = split(text, '/');
  if (pieces.size() != 2) throw invalid_value(rule, text);
  auto step = parse_number(pieces[1]);
  if (!step) throw invalid_value(rule, pieces[1]);
  if (*step == 0) {
    throw InvalidCronExpression("step 0 in '" + std::string(text) + "' for " +
                                std::string(rule.name));
  }
  std::string_view start = pieces[0];
  if (start == "*" || start == "?") {
    keep_values(part, rule, [step = *step](std::int64_t x) { return x % step == 0; });
    return;
  }
  // `a/s` and `a-b/s` keep x with x mod s == a mod s (upstream's rule, not "from a up").
  start = start.substr(0, start.find('-'));
  auto a = value_of(rule, start);
  if (!a) throw invalid_value(rule, start);
  keep_values(part, rule, [step = *step, a = *a](std::int64_t x) { return x % step == a % step; });
}

void apply_single(PartValues& part, const FieldRule& rule, std::string_view text) {
  std::string_view value = text;
  if (value.starts_with('l')) {
    part.last = true;
    value.remove_prefix(1);
  }
  if (value == "*" || value == "?" || text == "l") return;
  auto a = value_of(rule, value);
  if (!a) throw invalid_value(rule, value);
  keep_values(part, rule, [a = *a](std::int64_t x) { return x == a; });
}

PartValues parse_part(const FieldRule& rule, std::string_view text) {
  PartValues part;
  for (int value = rule.minimum; value <= rule.maximum; ++value)
    part.bits.set(value - rule.minimum);
  const bool is_range = contains(text, '-');
  const bool is_step = contains(text, '/');
  if (is_range) apply_range(part, rule, text);
  if (is_step) apply_step(part, rule, text);
  if (!is_range && !is_step) apply_single(part, rule, text);
  if (rule.field == CronField::weekday && part.bits.test(7)) {
    part.bits.reset(7);
    part.bits.set(0);
  }
  if (part.bits.none()) {
    throw InvalidCronExpression("empty value set for " + std::string(rule.name) + " ('" +
                                std::string(text) + "')");
  }
  return part;
}

std::string_view expand_alias(std::string_view text) {
  for (const auto& [alias, expression] : cron_aliases) {
    if (alias == text) return expression;
  }
  return text;
}

unsigned days_in_month(int year, unsigned month) {
  return static_cast<unsigned>(
      date::year_month_day_last{date::year{year} / date::month{month} / date::last}.day());
}

}  // namespace

InvalidCronExpression::InvalidCronExpression(const std::string& detail)
    : ScheduleError("Invalid cron notation: " + detail), detail_(detail) {}

CronExpression CronExpression::parse(std::string_view text) {
  const std::string lowered = lower_case(expand_alias(text));
  const auto fields = split_whitespace(lowered);
  if (fields.empty()) throw InvalidCronExpression("empty expression");

  CronExpression cron;
  for (const FieldRule& rule : field_rules) {
    const auto index = static_cast<std::size_t>(rule.field);
    const std::string_view field_text = index < fields.size() ? fields[index] : "*";
    bool last = false;
    for (std::string_view part_text : split(field_text, ',')) {
      PartValues part = parse_part(rule, part_text);
      cron.values_[index] |= part.bits;
      last = last || part.last;
    }
    if (rule.field == CronField::day) {
      cron.day_restricted_ = field_text != "*";
      cron.last_day_of_month_ = last;
    }
    if (rule.field == CronField::weekday) {
      cron.weekday_restricted_ = field_text != "*";
      cron.last_weekday_of_month_ = last;
    }
  }
  cron.check_days_in_scope();
  return cron;
}

bool CronExpression::has(CronField field, int value) const {
  const FieldRule& rule = rule_of(field);
  if (value < rule.minimum || value > stored_maximum(rule)) return false;
  return values_[static_cast<std::size_t>(field)].test(value - rule.minimum);
}

std::optional<int> CronExpression::first_at_or_after(CronField field, int value) const {
  for (int candidate = value; candidate <= stored_maximum(rule_of(field)); ++candidate) {
    if (has(field, candidate)) return candidate;
  }
  return std::nullopt;
}

void CronExpression::check_days_in_scope() const {
  const unsigned smallest_day = static_cast<unsigned>(*first_at_or_after(CronField::day, 1));
  if (smallest_day < 28) return;
  for (int year = first_cron_year; year <= last_cron_year; ++year) {
    if (!has(CronField::year, year)) continue;
    for (unsigned month = 1; month <= 12; ++month) {
      if (has(CronField::month, static_cast<int>(month)) &&
          days_in_month(year, month) >= smallest_day) {
        return;
      }
    }
  }
  throw InvalidCronExpression("days out of scope: no allowed month of an allowed year has a day " +
                              std::to_string(smallest_day));
}

bool CronExpression::day_of_month_matches(unsigned day, unsigned last_day) const {
  return has(CronField::day, static_cast<int>(day)) && (!last_day_of_month_ || day == last_day);
}

bool CronExpression::weekday_matches(unsigned day, unsigned weekday, unsigned last_day) const {
  return has(CronField::weekday, static_cast<int>(weekday)) &&
         (!last_weekday_of_month_ || day + 7 > last_day);
}

bool CronExpression::matches_day(date::year_month_day date) const {
  const unsigned day = static_cast<unsigned>(date.day());
  const unsigned last_day =
      days_in_month(static_cast<int>(date.year()), static_cast<unsigned>(date.month()));
  const unsigned weekday = date::weekday{date::sys_days{date}}.c_encoding();
  if (day_restricted_ && weekday_restricted_) {
    // Classic cron: either day field may match.
    return day_of_month_matches(day, last_day) || weekday_matches(day, weekday, last_day);
  }
  if (day_restricted_) return day_of_month_matches(day, last_day);
  if (weekday_restricted_) return weekday_matches(day, weekday, last_day);
  return true;
}

std::optional<LocalMinutes> CronExpression::next_match(LocalMinutes from) const {
  const auto first_possible = LocalMinutes{date::local_days{date::year{first_cron_year} / 1 / 1}};
  if (from < first_possible) from = first_possible;
  const auto start_day = date::floor<date::days>(from);
  const date::year_month_day start{start_day};
  const int start_year = static_cast<int>(start.year());
  const unsigned start_month = static_cast<unsigned>(start.month());
  const unsigned start_date = static_cast<unsigned>(start.day());
  const auto start_minute_of_day = static_cast<int>((from - start_day).count());
  const int start_hour = start_minute_of_day / 60;
  const int start_minute = start_minute_of_day % 60;

  for (int year = start_year; year <= last_cron_year; ++year) {
    if (!has(CronField::year, year)) continue;
    const bool in_start_year = year == start_year;
    for (unsigned month = in_start_year ? start_month : 1; month <= 12; ++month) {
      if (!has(CronField::month, static_cast<int>(month))) continue;
      const bool in_start_month = in_start_year && month == start_month;
      const unsigned last_day = days_in_month(year, month);
      for (unsigned day = in_start_month ? start_date : 1; day <= last_day; ++day) {
        const date::year_month_day date{date::year{year}, date::month{month}, date::day{day}};
        if (!matches_day(date)) continue;
        const bool on_start_day = in_start_month && day == start_date;
        for (auto hour = first_at_or_after(CronField::hour, on_start_day ? start_hour : 0); hour;
             hour = first_at_or_after(CronField::hour, *hour + 1)) {
          const bool in_start_hour = on_start_day && *hour == start_hour;
          auto minute = first_at_or_after(CronField::minute, in_start_hour ? start_minute : 0);
          if (minute) {
            return LocalMinutes{date::local_days{date}} + std::chrono::hours{*hour} +
                   std::chrono::minutes{*minute};
          }
        }
      }
    }
  }
  return std::nullopt;
}

std::string CronExpression::describe(CronField field) const {
  const FieldRule& rule = rule_of(field);
  std::string text;
  int value = rule.minimum;
  while (value <= stored_maximum(rule)) {
    if (!has(field, value)) {
      ++value;
      continue;
    }
    int run_end = value;
    while (run_end + 1 <= stored_maximum(rule) && has(field, run_end + 1)) ++run_end;
    if (!text.empty()) text += ',';
    text += std::to_string(value);
    if (run_end > value) text += '-' + std::to_string(run_end);
    value = run_end + 1;
  }
  return text;
}

std::optional<std::int64_t> python_int(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) digits.remove_prefix(1);
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  if (text.front() == '+') text.remove_prefix(1);  // from_chars takes '-' only
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace tomodachi::schedule_impl
