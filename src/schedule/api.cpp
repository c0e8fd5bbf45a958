// The public schedule API of <tomodachi/schedule.hpp> on top of the engine.

#include "schedule/engine.hpp"
#include "schedule/zone.hpp"

#include <tomodachi/schedule.hpp>

#include <date/date.h>

namespace tomodachi {

std::string ScheduleInterval::to_string() const {
  return is_seconds() ? std::to_string(seconds()) : text();
}

ScheduleSpec every(std::chrono::seconds period) { return ScheduleSpec{.interval = period}; }

ScheduleSpec cron(std::string expression, std::optional<std::string> timezone) {
  return ScheduleSpec{.interval = std::move(expression), .timezone = std::move(timezone)};
}

ScheduleSpec at(std::string timestamp, std::optional<std::string> timezone) {
  return ScheduleSpec{.timestamp = std::move(timestamp), .timezone = std::move(timezone)};
}

std::string ScheduleInvocation::invocation_time_iso() const {
  return date::format("%FT%TZ", date::floor<std::chrono::seconds>(invocation_time));
}

namespace detail {

void validate_schedule(const ScheduleSpec& when) {
  schedule_impl::Schedule::compile(when, schedule_impl::local_zone().zone);
}

}  // namespace detail
}  // namespace tomodachi
