// A service whose schedule cannot run: tests/e2e/test_schedule.py checks that the start
// fails with exit code 1 and the spec's message. SCHEDULE_INVALID picks the mistake.

#include <tomodachi/tomodachi.hpp>

#include <cstdlib>
#include <string>

class InvalidSchedule : public tomodachi::Service {
 public:
  InvalidSchedule() : Service("test-schedule-invalid") {
    const char* kind = std::getenv("SCHEDULE_INVALID");
    const std::string mistake = kind ? kind : "interval";
    if (mistake == "interval") schedule<&InvalidSchedule::never>({.interval = "5 minutes"});
    if (mistake == "seconds") schedule<&InvalidSchedule::never>({.interval = -5});
    if (mistake == "cron") schedule<&InvalidSchedule::never>(tomodachi::cron("* * 30 2 *"));
    if (mistake == "timestamp") schedule<&InvalidSchedule::never>(tomodachi::at("25:00"));
    if (mistake == "timezone") {
      schedule<&InvalidSchedule::never>(tomodachi::at("08:00", "Mars/Olympus"));
    }
  }

 private:
  tomodachi::Task<void> never() { co_return; }
};

TOMODACHI_SERVICE(InvalidSchedule);
