#pragma once
// Time zones of the system tzdata for schedules: name resolution (IANA names and the
// offset aliases of spec/schedule.md §5), the local zone, and the mapping from wall-clock
// times to instants with our DST rule.

#include <tomodachi/schedule.hpp>

#include <date/tz.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace tomodachi::schedule_impl {

/// A time zone, or UTC when the system has no tzdata.
class Zone {
 public:
  /// UTC; works without tzdata.
  static Zone utc();

  /// A zone of the system tzdata by exact name, else by case-insensitive name (as pytz
  /// accepts `utc`). Throws ScheduleError `Unknown timezone: <name>`.
  static Zone named(std::string_view name);

  /// The tzdata name (`UTC` for the built-in UTC).
  std::string name() const;

  /// Wall-clock time of an instant.
  date::local_seconds to_local(date::sys_seconds instant) const;

  /// UTC offset at an instant.
  std::chrono::seconds offset_at(date::sys_seconds instant) const;

  /// The instant a wall-clock time fires at. A time that exists once maps to it; a time
  /// that exists twice (autumn fall-back) maps to its first occurrence; a time skipped
  /// by a spring-forward gap maps to the first instant after the gap.
  date::sys_seconds to_instant(date::local_seconds wall) const;

 private:
  explicit Zone(const date::time_zone* zone) : zone_(zone) {}

  const date::time_zone* zone_;  ///< null: built-in UTC
};

/// The tzdata name an offset alias stands for (`"GMT +01:00"` → `"Etc/GMT-1"`, matched
/// exactly or with all spaces removed), else `name` unchanged.
std::string resolve_timezone_alias(std::string_view name);

/// `timezone=` of a schedule: alias, then tzdata lookup.
/// Throws ScheduleError `Unknown timezone: <name>`.
Zone resolve_timezone(std::string_view name);

/// Where the local zone is read from; defaults are the process environment and the
/// system files.
struct LocalZoneSources {
  std::optional<std::string> tz_variable;  ///< value of `TZ`, if set
  std::filesystem::path localtime = "/etc/localtime";
  std::filesystem::path timezone_file = "/etc/timezone";
  /// The system tzdata, searched for a copy of a non-symlink `localtime`.
  std::filesystem::path zoneinfo = "/usr/share/zoneinfo";

  static LocalZoneSources from_environment();
};

/// The local zone and, when it had to fall back to UTC, why.
struct LocalZone {
  Zone zone;
  std::optional<std::string> warning;
};

/// `TZ` when set (a zone name, `:name` or a path under a `zoneinfo` folder), else the
/// zone `/etc/localtime` links to, or — when it is a copied file, as in many container
/// images — the zoneinfo file with identical bytes, else the name in `/etc/timezone`,
/// else UTC with a warning. An unknown `TZ` also gives UTC with a warning (as the C
/// library does).
LocalZone detect_local_zone(const LocalZoneSources& sources);

/// The name of a zone under `zoneinfo` whose file has exactly `bytes` (a TZif file), or
/// nullopt. `preferred` is taken when it matches; otherwise names with a region
/// (`America/New_York`) go before bare aliases, then alphabetical order; `posix/` and
/// `right/` are not searched. The answer is cached per folder and content.
std::optional<std::string> zone_name_of_file_content(
    const std::filesystem::path& zoneinfo, const std::string& bytes,
    const std::optional<std::string>& preferred = std::nullopt);

/// The process's local zone, detected once (`detect_local_zone` of the environment).
const LocalZone& local_zone();

}  // namespace tomodachi::schedule_impl
