// The service of tests/e2e/test_schedule.py: a heartbeat, an integer interval with and
// without `immediately`, a cron every minute and a slow function, each logging its
// invocations; the lifecycle hooks log their order and the execution context.

#include <tomodachi/tomodachi.hpp>

#include <boost/json.hpp>

using namespace std::chrono_literals;

class ScheduleE2e : public tomodachi::Service {
 public:
  ScheduleE2e() : Service("test-schedule") {
    heartbeat<&ScheduleE2e::beat>();
    schedule<&ScheduleE2e::every_third_second>(tomodachi::every(3s));
    schedule<&ScheduleE2e::every_third_second_immediately>(tomodachi::every(3s).run_immediately());
    schedule<&ScheduleE2e::every_minute>(tomodachi::cron("* * * * *"));
    schedule<&ScheduleE2e::slow>({.interval = "6 seconds"});
  }

  tomodachi::Task<void> start_service() override {
    hook("start_service");
    co_return;
  }

  tomodachi::Task<void> started_service() override {
    hook("started_service");
    co_return;
  }

  tomodachi::Task<void> stop_service() override {
    const auto context = tomodachi::get_execution_context();
    logger().info("hook", {{"hook", "stop_service"},
                           {"enabled", context.at("scheduled_functions_enabled")},
                           {"current_tasks", context.at("scheduled_functions_current_tasks")},
                           {"total_tasks", context.at("scheduled_functions_total_tasks")}});
    co_return;
  }

 private:
  void hook(const char* name) { logger().info("hook", {{"hook", name}}); }

  static void invoked(const tomodachi::ScheduleInvocation& invocation, const char* function) {
    const std::string time = invocation.invocation_time_iso();
    const std::string interval = invocation.interval ? invocation.interval->to_string() : "";
    invocation.logger.info("invoked", {{"function", function},
                                       {"invocation_time", time.c_str()},
                                       {"interval", interval.c_str()}});
  }

  tomodachi::Task<void> beat(const tomodachi::ScheduleInvocation& invocation) {
    invoked(invocation, "beat");
    co_return;
  }

  tomodachi::Task<void> every_third_second(const tomodachi::ScheduleInvocation& invocation) {
    invoked(invocation, "every_third_second");
    co_return;
  }

  tomodachi::Task<void> every_third_second_immediately(
      const tomodachi::ScheduleInvocation& invocation) {
    invoked(invocation, "every_third_second_immediately");
    co_return;
  }

  tomodachi::Task<void> every_minute(const tomodachi::ScheduleInvocation& invocation) {
    invoked(invocation, "every_minute");
    co_return;
  }

  tomodachi::Task<void> slow(const tomodachi::ScheduleInvocation& invocation) {
    invoked(invocation, "slow");
    co_await tomodachi::sleep(4s);
    invocation.logger.info("slow finished");
  }
};

TOMODACHI_SERVICE(ScheduleE2e);
