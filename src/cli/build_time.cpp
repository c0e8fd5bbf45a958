#include "cli/build_time.hpp"

#include "cli/build_info.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <regex>

namespace tomodachi::cli {
namespace {

/// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)`.
std::optional<double> parse_iso8601(std::string_view text) {
  static const std::regex pattern(
      R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})$)");
  std::cmatch m;
  if (!std::regex_match(text.begin(), text.end(), m, pattern)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  double seconds = static_cast<double>(timegm(&tm));
  if (m[7].matched) {
    std::string fraction = m[7].str();
    fraction.resize(6, '0');
    seconds += std::stoi(fraction) / 1e6;
  }
  const std::string zone = m[8].str();
  if (zone != "Z") {
    const int sign = zone[0] == '-' ? -1 : 1;
    const int hours = std::stoi(zone.substr(1, 2));
    const int minutes = std::stoi(zone.substr(zone.size() - 2));
    seconds -= sign * (hours * 3600 + minutes * 60);
  }
  return seconds;
}

std::string plural(long n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

}  // namespace

std::string get_time_since_build(std::string_view now, std::string_view build_time) {
  const auto now_seconds = parse_iso8601(now);
  const auto build_seconds = parse_iso8601(build_time);
  if (!now_seconds || !build_seconds) return "";
  const double delta = *now_seconds - *build_seconds;
  if (delta < 60) return "released just now";
  if (delta < 3600) return "released " + plural(static_cast<long>(delta / 60), "minute") + " ago";
  if (delta < 86400) return "released " + plural(static_cast<long>(delta / 3600), "hour") + " ago";
  const long days = static_cast<long>(delta / 86400);
  if (days < 90) return "released " + plural(days, "day") + " ago";
  if (days < 720) return "released " + plural(days / 30, "month") + " ago";
  return "released over " + std::to_string(std::max(2L, days / 365)) + " years ago";
}

std::string time_since_build_phrase() {
  const std::string_view build_time = embedded_build_time;
  if (build_time.empty()) return "local development version";
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S.000000Z", &utc);
  const std::string phrase = get_time_since_build(buffer, build_time);
  return phrase.empty() ? "local development version" : phrase;
}

}  // namespace tomodachi::cli
