#pragma once
// Helpers of the schedule unit tests: fixture files, time parsing and formatting.

#include "schedule/zone.hpp"

#include <date/date.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tomodachi::schedule_impl::test_support {

inline std::string fixtures_dir() {
  if (const char* dir = std::getenv("TOMODACHI_FIXTURES_DIR")) return dir;
  return TOMODACHI_DEFAULT_FIXTURES_DIR;
}

inline boost::json::value read_json(const std::string& relative_path) {
  const std::string path = fixtures_dir() + "/" + relative_path;
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot open fixture " + path);
  std::stringstream text;
  text << file.rdbuf();
  return boost::json::parse(text.str());
}

inline const boost::json::value& cron_fixture() {
  static const boost::json::value fixture = read_json("upstream/cron.json");
  return fixture;
}

inline const boost::json::object& deliberate_differences() {
  static const boost::json::value file = read_json("deliberate_differences/schedule.json");
  return file.at("cases").as_object();
}

/// One case of cron.json, named for gtest (`test-001` → `test_001`).
struct FixtureCase {
  std::string id;
  boost::json::object data;
};

inline void PrintTo(const FixtureCase& fixture_case, std::ostream* out) { *out << fixture_case.id; }

inline std::vector<FixtureCase> fixture_cases(std::string_view kind) {
  std::vector<FixtureCase> cases;
  for (const auto& entry : cron_fixture().at("cases").as_array()) {
    const auto& object = entry.as_object();
    if (object.at("kind").as_string() != kind) continue;
    cases.push_back({std::string(object.at("id").as_string()), object});
  }
  return cases;
}

inline std::string test_name(const std::string& id) {
  std::string name = id;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

template <typename Param>
std::string case_name(const ::testing::TestParamInfo<Param>& info) {
  return test_name(info.param.id);
}

inline std::string text_of(const boost::json::value& value) {
  return std::string(value.as_string());
}

/// `2017-06-15T10:16:50` or `2017-06-15T10:17:00.500000` as a wall-clock time.
inline date::local_time<std::chrono::microseconds> parse_wall(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, micros = 0;
  const std::string copy(text);
  const int fields = std::sscanf(copy.c_str(), "%d-%d-%dT%d:%d:%d.%d", &year, &month, &day, &hour,
                                 &minute, &second, &micros);
  if (fields < 6) throw std::runtime_error("bad time in fixture: " + copy);
  const date::local_days days{date::year{year} / month / day};
  return days + std::chrono::hours{hour} + std::chrono::minutes{minute} +
         std::chrono::seconds{second} + std::chrono::microseconds{micros};
}

inline std::chrono::system_clock::time_point from_epoch(double seconds) {
  return std::chrono::system_clock::time_point{
      std::chrono::round<std::chrono::microseconds>(std::chrono::duration<double>(seconds))};
}

inline std::chrono::system_clock::time_point utc(std::string_view wall) {
  return std::chrono::system_clock::time_point{parse_wall(wall).time_since_epoch()};
}

inline long long epoch_of(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

inline std::string naive_iso(date::local_seconds wall) { return date::format("%FT%T", wall); }

/// Python's `isoformat()` of an aware datetime: `2017-06-15T10:17:00+02:00`.
inline std::string aware_iso(const Zone& zone, date::sys_seconds instant) {
  const auto offset = zone.offset_at(instant);
  const auto magnitude = date::abs(offset);
  const auto hours = std::chrono::duration_cast<std::chrono::hours>(magnitude);
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(magnitude - hours);
  char sign = offset < std::chrono::seconds{0} ? '-' : '+';
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%c%02d:%02d", sign, static_cast<int>(hours.count()),
                static_cast<int>(minutes.count()));
  return naive_iso(zone.to_local(instant)) + suffix;
}

/// UTC ISO text of an instant, for readable failure messages.
inline std::string utc_iso(std::chrono::system_clock::time_point t) {
  return date::format("%FT%TZ", date::floor<std::chrono::seconds>(t));
}

}  // namespace tomodachi::schedule_impl::test_support
