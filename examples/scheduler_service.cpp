// Scheduled functions: intervals, cron notation, times of day and time zones.
//
//   tomodachi run examples/scheduler_service.cpp
//
// The same schedules as upstream's examples/basic_examples/scheduler_example.py.

#include <tomodachi/schedule.hpp>
#include <tomodachi/tomodachi.hpp>

using namespace std::chrono_literals;

class SchedulerService : public tomodachi::Service {
 public:
  SchedulerService() : Service("example-scheduler-service") {
    schedule<&SchedulerService::every_second>({.interval = "every second"});
    minutely<&SchedulerService::every_minute>();
    hourly<&SchedulerService::every_hour>();
    // Cron notation, evaluated on the local wall clock (TZ, else /etc/localtime).
    schedule<&SchedulerService::every_second_minute>(tomodachi::cron("*/2 * * * *"));
    // Every odd minute between 08:00 and 18:59 on weekdays.
    schedule<&SchedulerService::work_hours>(tomodachi::cron("1/2 8-18 * * mon-fri"));
    // The last Tuesday of January and March at 05:30.
    schedule<&SchedulerService::advanced_cron_notation>(tomodachi::cron("30 5 * jan,mar Ltue"));
    schedule<&SchedulerService::as_timestamp>(tomodachi::at("22:15:30"));
    schedule<&SchedulerService::midnight_in_sweden>(tomodachi::at("00:00:00", "Europe/Stockholm"));
    schedule<&SchedulerService::every_twenty_seconds>(tomodachi::every(20s));
    schedule<&SchedulerService::every_twenty_seconds_and_immediately>(
        tomodachi::every(20s).run_immediately());
  }

 private:
  tomodachi::Task<void> every_second(const tomodachi::ScheduleInvocation& invocation) {
    invocation.logger.info("Heartbeat");
    co_return;
  }

  tomodachi::Task<void> every_minute(const tomodachi::ScheduleInvocation& invocation) {
    invocation.logger.info("Heartbeat (every minute)");
    co_return;
  }

  tomodachi::Task<void> every_hour(const tomodachi::ScheduleInvocation& invocation) {
    invocation.logger.info("Heartbeat (every hour)");
    co_return;
  }

  tomodachi::Task<void> every_second_minute(const tomodachi::ScheduleInvocation& invocation) {
    invocation.logger.info("Heartbeat (every 2nd minute)");
    co_return;
  }

  tomodachi::Task<void> work_hours(const tomodachi::ScheduleInvocation& invocation) {
    invocation.logger.info("Heartbeat (every odd minute between 8-18 on weekdays)");
    co_return;
  }

  tomodachi::Task<void> advanced_cron_notation(const tomodachi::ScheduleInvocation& invocation) {
    invocation.logger.info("Heartbeat (the last Tuesday of January and March at 05:30 AM)");
    co_return;
  }

  tomodachi::Task<void> as_timestamp(const tomodachi::ScheduleInvocation& invocation) {
    invocation.logger.info("Heartbeat (22:15:30)");
    co_return;
  }

  tomodachi::Task<void> midnight_in_sweden(const tomodachi::ScheduleInvocation& invocation) {
    invocation.logger.info("Heartbeat (midnight in Sweden)");
    co_return;
  }

  tomodachi::Task<void> every_twenty_seconds(const tomodachi::ScheduleInvocation& invocation) {
    invocation.logger.info("Every 20 seconds");
    co_return;
  }

  tomodachi::Task<void> every_twenty_seconds_and_immediately(
      const tomodachi::ScheduleInvocation& invocation) {
    invocation.logger.info("Every 20 seconds and immediately");
    co_return;
  }
};

TOMODACHI_SERVICE(SchedulerService);
