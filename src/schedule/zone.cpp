#include "schedule/zone.hpp"

#include <tomodachi/schedule.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tomodachi::schedule_impl {
namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

/// Names that mean UTC even on a system without tzdata.
bool is_builtin_utc_name(std::string_view name) {
  constexpr std::array<std::string_view, 6> names{"UTC",     "Etc/UTC", "GMT",
                                                  "Etc/GMT", "GMT0",    "Etc/GMT0"};
  return std::any_of(names.begin(), names.end(),
                     [&](std::string_view utc) { return equals_ignoring_case(utc, name); });
}

const date::time_zone* find_by_exact_name(std::string_view name) noexcept {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

const date::time_zone* find_ignoring_case(std::string_view name) noexcept {
  try {
    // With the system tzdata every link is a zone file of its own.
    for (const auto& zone : date::get_tzdb().zones) {
      if (equals_ignoring_case(zone.name(), name)) return &zone;
    }
  } catch (const std::exception&) {
    // No tzdata: nothing but the built-in UTC is known.
  }
  return nullptr;
}

std::string without_spaces(std::string_view text) {
  std::string result;
  for (char c : text) {
    if (c != ' ') result += c;
  }
  return result;
}

std::string two_digits(int value) { return (value < 10 ? "0" : "") + std::to_string(value); }

/// Upstream's alias spellings of a whole-hour UTC offset (spec/schedule.md §5).
std::vector<std::string> offset_aliases(int hours) {
  if (hours == 0) {
    return {"+00:00",     "-00:00",  "00:00",   "0000",   "GMT +0000",
            "GMT +00:00", "GMT -00", "GMT +00", "GMT -0", "GMT +0"};
  }
  const std::string sign = hours > 0 ? "+" : "-";
  const int magnitude = std::abs(hours);
  const std::string hh = two_digits(magnitude);
  std::vector<std::string> aliases{sign + hh + ":00", sign + hh + "00", "GMT " + sign + hh + "00",
                                   "GMT " + sign + hh + ":00", "GMT " + sign + hh};
  if (magnitude < 10) aliases.push_back("GMT " + sign + std::to_string(magnitude));
  return aliases;
}

/// `Etc/GMT-1` is UTC+1: POSIX inverts the sign.
std::string etc_zone_for_offset(int hours) {
  if (hours == 0) return "GMT0";
  return "Etc/GMT" + std::string(hours > 0 ? "-" : "+") + std::to_string(std::abs(hours));
}

/// `Europe/Stockholm` from `/usr/share/zoneinfo/Europe/Stockholm` (or the text itself).
std::string zone_name_from_path(std::string_view path) {
  constexpr std::string_view marker = "zoneinfo/";
  auto position = path.rfind(marker);
  if (position == std::string_view::npos) return std::string(path);
  return std::string(path.substr(position + marker.size()));
}

std::string first_line_of(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  auto is_space = [](unsigned char c) { return std::isspace(c) != 0; };
  line.erase(line.begin(), std::find_if_not(line.begin(), line.end(), is_space));
  line.erase(std::find_if_not(line.rbegin(), line.rend(), is_space).base(), line.end());
  return line;
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) return std::nullopt;
  return bytes;
}

bool file_has_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::error_code error;
  if (std::filesystem::file_size(path, error) != bytes.size() || error) return false;
  const std::optional<std::string> content = read_file(path);
  return content && *content == bytes;
}

// Every regular file under `zoneinfo` with exactly `bytes`, as zone names, best first.
std::vector<std::string> zone_files_with_bytes(const std::filesystem::path& zoneinfo,
                                               const std::string& bytes) {
  std::vector<std::string> names;
  std::error_code error;
  std::filesystem::recursive_directory_iterator it(zoneinfo, error);
  const std::filesystem::recursive_directory_iterator end;
  for (; !error && it != end; it.increment(error)) {
    const std::filesystem::directory_entry& entry = *it;
    const std::string name = entry.path().lexically_relative(zoneinfo).generic_string();
    if (it.depth() == 0 && (name == "posix" || name == "right")) {
      it.disable_recursion_pending();  // the same zones again (right/: with leap seconds)
      continue;
    }
    std::error_code status_error;
    if (entry.is_symlink(status_error) || !entry.is_regular_file(status_error))
      continue;  // links: the target counts
    if (file_has_bytes(entry.path(), bytes)) names.push_back(name);
  }
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    const bool a_region = a.find('/') != std::string::npos;
    const bool b_region = b.find('/') != std::string::npos;
    return a_region != b_region ? a_region : a < b;
  });
  return names;
}

}  // namespace

std::optional<std::string> zone_name_of_file_content(const std::filesystem::path& zoneinfo,
                                                     const std::string& bytes,
                                                     const std::optional<std::string>& preferred) {
  if (preferred && !preferred->empty() && file_has_bytes(zoneinfo / *preferred, bytes)) {
    try {
      (void)Zone::named(*preferred);
      return preferred;
    } catch (const ScheduleError&) {
      // Not a zone the tzdata library knows: search.
    }
  }
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::string>, std::optional<std::string>> cache;
  const std::scoped_lock lock(mutex);
  auto key = std::make_pair(zoneinfo.string(), bytes);
  if (const auto cached = cache.find(key); cached != cache.end()) return cached->second;
  std::optional<std::string> found;
  for (const std::string& name : zone_files_with_bytes(zoneinfo, bytes)) {
    try {
      (void)Zone::named(name);
      found = name;
      break;
    } catch (const ScheduleError&) {
      // A data file that happens to match (or a name the library does not know): next.
    }
  }
  cache.emplace(std::move(key), found);
  return found;
}

Zone Zone::utc() { return Zone(nullptr); }

Zone Zone::named(std::string_view name) {
  if (const auto* zone = find_by_exact_name(name)) return Zone(zone);
  if (const auto* zone = find_ignoring_case(name)) return Zone(zone);
  if (is_builtin_utc_name(name)) return utc();
  throw ScheduleError("Unknown timezone: " + std::string(name));
}

std::string Zone::name() const { return zone_ ? std::string(zone_->name()) : "UTC"; }

date::local_seconds Zone::to_local(date::sys_seconds instant) const {
  if (!zone_) return date::local_seconds{instant.time_since_epoch()};
  return zone_->to_local(instant);
}

std::chrono::seconds Zone::offset_at(date::sys_seconds instant) const {
  if (!zone_) return std::chrono::seconds{0};
  return zone_->get_info(instant).offset;
}

date::sys_seconds Zone::to_instant(date::local_seconds wall) const {
  if (!zone_) return date::sys_seconds{wall.time_since_epoch()};
  const date::local_info info = zone_->get_info(wall);
  if (info.result == date::local_info::nonexistent) return info.second.begin;
  // Unique, or ambiguous: `first` is the offset in force before the fall-back.
  return date::sys_seconds{wall.time_since_epoch() - info.first.offset};
}

std::string resolve_timezone_alias(std::string_view name) {
  const std::string compact = without_spaces(name);
  for (int hours = -12; hours <= 12; ++hours) {
    for (const std::string& alias : offset_aliases(hours)) {
      if (without_spaces(alias) == compact) return etc_zone_for_offset(hours);
    }
  }
  return std::string(name);
}

Zone resolve_timezone(std::string_view name) {
  try {
    return Zone::named(resolve_timezone_alias(name));
  } catch (const ScheduleError&) {
    throw ScheduleError("Unknown timezone: " + std::string(name));
  }
}

LocalZoneSources LocalZoneSources::from_environment() {
  LocalZoneSources sources;
  if (const char* tz = std::getenv("TZ")) sources.tz_variable = tz;
  return sources;
}

LocalZone detect_local_zone(const LocalZoneSources& sources) {
  if (sources.tz_variable) {
    std::string_view value = *sources.tz_variable;
    if (value.starts_with(':')) value.remove_prefix(1);
    if (value.empty()) return {Zone::utc(), std::nullopt};
    try {
      return {Zone::named(zone_name_from_path(value)), std::nullopt};
    } catch (const ScheduleError&) {
      return {Zone::utc(), "TZ=" + *sources.tz_variable +
                               " is not a time zone of the system tzdata; cron and timestamp "
                               "schedules without a timezone use UTC"};
    }
  }
  std::error_code error;
  if (std::filesystem::is_symlink(sources.localtime, error)) {
    const auto target = std::filesystem::read_symlink(sources.localtime, error);
    if (!error) {
      try {
        return {Zone::named(zone_name_from_path(target.string())), std::nullopt};
      } catch (const ScheduleError&) {
        // An unknown link target: try the name file below.
      }
    }
  }
  std::optional<std::string> timezone_name;
  if (std::filesystem::exists(sources.timezone_file, error))
    timezone_name = first_line_of(sources.timezone_file);
  // A copied file (container images often copy instead of linking), or a link to a file
  // of no known name: the zone with the same bytes. The C library reads these bytes, so
  // they win over /etc/timezone.
  if (std::filesystem::is_regular_file(sources.localtime, error)) {
    if (const std::optional<std::string> bytes = read_file(sources.localtime)) {
      if (const auto name = zone_name_of_file_content(sources.zoneinfo, *bytes, timezone_name)) {
        return {Zone::named(*name), std::nullopt};
      }
    }
  }
  if (timezone_name) {
    try {
      return {Zone::named(*timezone_name), std::nullopt};
    } catch (const ScheduleError&) {
      // Fall through to UTC.
    }
  }
  return {Zone::utc(), "no local time zone found (TZ unset, " + sources.localtime.string() +
                           " missing or unknown); cron and timestamp schedules without a "
                           "timezone use UTC"};
}

const LocalZone& local_zone() {
  static const LocalZone zone = detect_local_zone(LocalZoneSources::from_environment());
  return zone;
}

}  // namespace tomodachi::schedule_impl
