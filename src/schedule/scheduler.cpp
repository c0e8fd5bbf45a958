#include "schedule/scheduler.hpp"

#include "schedule/zone.hpp"
#include "telemetry/handler_span.hpp"

#include <tomodachi/detail/assert.hpp>
#include <tomodachi/loop.hpp>
#include <tomodachi/service.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/string.hpp>

#include <date/date.h>

#include <algorithm>
#include <utility>

namespace tomodachi::schedule_impl {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

/// `2023-08-13T17:44:09.176295Z`, the start-time part of a running task's name.
std::string iso_microseconds(std::chrono::system_clock::time_point time) {
  return date::format("%FT%TZ", date::floor<std::chrono::microseconds>(time));
}

Logger loop_logger(const std::string& handler) {
  return Logger("tomodachi.scheduler", {{"handler", boost::json::string(handler)}});
}

/// Says once per process that cron and timestamp schedules fall back to UTC.
void warn_about_local_zone_once(const ScheduleSpec& when) {
  static bool warned = false;
  const bool uses_local_zone = !(when.timezone && !when.timezone->empty());
  const bool uses_wall_clock =
      (when.interval && !when.interval->is_seconds()) || (!when.interval && when.timestamp);
  const auto& warning = local_zone().warning;
  if (warned || !warning || !uses_local_zone || !uses_wall_clock) return;
  warned = true;
  get_logger("tomodachi.scheduler").warning(*warning);
}

/// A scheduler needs nothing of the service beyond its specs.
std::unique_ptr<TransportInstance> make_scheduler(Service&, std::vector<const HandlerSpec*> specs) {
  return std::make_unique<Scheduler>(specs, get_executor());
}

const bool registered = [] {
  register_transport("schedule", make_scheduler);
  return true;
}();

}  // namespace

// ---- counters -----------------------------------------------------------------------------

std::shared_ptr<ScheduleCounters> ScheduleCounters::shared() {
  static std::weak_ptr<ScheduleCounters> current;
  auto counters = current.lock();
  if (!counters) {
    counters = std::make_shared<ScheduleCounters>();
    current = counters;
  }
  set_execution_context({{"scheduled_functions_enabled", true}});
  return counters;
}

// ---- overlap limit ------------------------------------------------------------------------

OverlapLimit::Verdict OverlapLimit::admit(std::size_t running) {
  if (running >= task_limit) {
    if (skipping_) return Verdict::skip;
    skipping_ = true;
    warning_threshold_ *= 2;
    return Verdict::skip_and_warn;
  }
  if (!skipping_) return Verdict::run;
  if (running >= resume_task_count) return Verdict::skip;
  skipping_ = false;
  warning_threshold_ = task_limit;
  return Verdict::resume_and_run;
}

// ---- one scheduled function ---------------------------------------------------------------

ScheduledFunction::ScheduledFunction(const ScheduleHandlerSpec& spec, Schedule schedule,
                                     std::shared_ptr<ScheduleCounters> counters,
                                     core::Gate& running, const asio::any_io_executor& executor)
    : spec_(spec),
      schedule_(std::move(schedule)),
      counters_(std::move(counters)),
      running_(running),
      executor_(executor),
      logger_(loop_logger(spec.name)),
      handler_logger_("tomodachi.schedule.handler", {{"handler", boost::json::string(spec.name)},
                                                     {"type", "tomodachi.schedule"}}) {
  loop_ended_.set();  // until `start_loop`
}

void ScheduledFunction::start_loop() {
  loop_ended_.clear();
  asio::co_spawn(executor_, loop(), [this](std::exception_ptr error) {
    if (error) log_uncaught_exception(error, {{"handler", boost::json::string(spec_.name)}});
    loop_ended_.set();
  });
}

void ScheduledFunction::request_stop() { stopping_.set(); }

Task<void> ScheduledFunction::wait_until_loop_ended() { co_await loop_ended_.wait(); }

Task<void> ScheduledFunction::loop() {
  if (stopping_.is_set()) co_return;  // stopped before the loop got its first turn
  const TimePoint start = std::chrono::system_clock::now();
  if (schedule_.immediately()) launch(start);
  std::optional<TimePoint> due = schedule_.next_after(start);
  while (due && !stopping_.is_set()) {
    // (A system_clock sleep: woken early when the wall clock was set back.)
    if (!co_await core::sleep_until(*due, stopping_)) break;
    const TimePoint now = std::chrono::system_clock::now();
    if (now < *due) continue;  // woken early: the wall clock was set back
    due = fire(*due, now);
  }
}

std::optional<ScheduledFunction::TimePoint> ScheduledFunction::fire(TimePoint due, TimePoint now) {
  if (!admit_invocation()) return first_due_after(due, now + 10s);
  launch(due);
  return skip_missed(schedule_.next_after(due), now);
}

bool ScheduledFunction::admit_invocation() {
  const std::size_t running = running_tasks_.size();
  const std::size_t threshold = overlap_limit_.warning_threshold();
  switch (overlap_limit_.admit(running)) {
    case OverlapLimit::Verdict::run:
      return true;
    case OverlapLimit::Verdict::skip:
      return false;
    case OverlapLimit::Verdict::skip_and_warn:
      logger_.warning("too many scheduled tasks for function in scheduled function loop",
                      {{"task_count", running}, {"task_limit", threshold}});
      return false;
    case OverlapLimit::Verdict::resume_and_run:
      logger_.info("scheduled function loop resumed as task count is within threshold",
                   {{"task_count", running}, {"task_limit", overlap_limit_.warning_threshold()}});
      return true;
  }
  return true;
}

std::optional<ScheduledFunction::TimePoint> ScheduledFunction::first_due_after(
    std::optional<TimePoint> due, TimePoint time) const {
  while (due && *due <= time) due = schedule_.next_after(*due);
  return due;
}

std::optional<ScheduledFunction::TimePoint> ScheduledFunction::skip_missed(
    std::optional<TimePoint> due, TimePoint now) {
  if (!due || *due >= now - max_catch_up) return due;
  std::int64_t missed = 0;
  while (due && *due < now - max_catch_up) {
    due = schedule_.next_after(*due);
    ++missed;
  }
  logger_.warning("scheduled function loop fell behind - skipping missed invocations",
                  {{"missed_invocations", missed}});
  return due;
}

void ScheduledFunction::launch(TimePoint invocation_time) {
  const std::uint64_t id = next_task_id_++;
  running_tasks_.emplace(
      id, spec_.qualified_name + "/" + iso_microseconds(std::chrono::system_clock::now()));
  running_.enter();
  counters_->current_tasks.add();
  counters_->total_tasks.add();
  ScheduleInvocation invocation{.invocation_time = invocation_time,
                                .interval = spec_.when.interval,
                                .logger = handler_logger_};
  asio::co_spawn(executor_, run_invocation(std::move(invocation)),
                 [this, id](std::exception_ptr) { finished(id); });
}

Task<void> ScheduledFunction::run_invocation(ScheduleInvocation invocation) {
  std::exception_ptr error;
  try {
    Task<void> run = spec_.invoke(invocation);
    if (telemetry::tracer() != nullptr) run = traced(invocation, std::move(run));
    co_await std::move(run);
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    log_uncaught_exception(
        error, {{"handler", boost::json::string(spec_.name)}, {"type", "tomodachi.schedule"}});
  }
}

// Upstream's OpenTelemetryScheduleFunctionMiddleware: an INTERNAL root span named after
// the function around each invocation, with function.duration / function.active_tasks.
Task<void> ScheduledFunction::traced(const ScheduleInvocation& invocation, Task<void> run) const {
  telemetry::HandlerSpanSpec span;
  span.name = spec_.name;
  span.kind = trace::SpanKind::internal;
  span.mode = telemetry::ParentMode::root;
  span.attributes = {{"code.function", spec_.name},
                     {"function.trigger", std::string("timer")},
                     {"function.time", invocation.invocation_time_iso()}};
  if (invocation.interval)
    span.attributes.emplace_back("function.interval", invocation.interval->to_string());
  span.duration_instrument = "function.duration";
  span.active_instrument = "function.active_tasks";
  return telemetry::run_handler_span(std::move(span), std::move(run));
}

void ScheduledFunction::finished(std::uint64_t id) {
  const std::size_t erased = running_tasks_.erase(id);
  TOMODACHI_ASSERT(erased == 1, "an invocation finishes once, after it was launched");
  counters_->current_tasks.sub();
  running_.leave();
}

void ScheduledFunction::report_running(bool first_report) const {
  const char* message =
      first_report ? "awaiting task to complete" : "still awaiting task to finish";
  for (const auto& [id, task_name] : running_tasks_) {
    logger_.warning(message, {{"task_name", boost::json::string(task_name)}});
  }
}

// ---- the transport ------------------------------------------------------------------------

Scheduler::Scheduler(const std::vector<const HandlerSpec*>& specs,
                     boost::asio::any_io_executor executor)
    : executor_(std::move(executor)) {
  start_watch_ended_.set();  // until `start`
  auto counters = ScheduleCounters::shared();
  for (const HandlerSpec* spec : specs) {
    const auto& schedule_spec = dynamic_cast<const ScheduleHandlerSpec&>(*spec);
    Schedule schedule = Schedule::compile(schedule_spec.when, local_zone().zone);
    warn_about_local_zone_once(schedule_spec.when);
    functions_.push_back(std::make_unique<ScheduledFunction>(schedule_spec, std::move(schedule),
                                                             counters, running_, executor_));
  }
}

Task<void> Scheduler::start() {
  start_watch_ended_.clear();
  asio::co_spawn(executor_, watch_start(), [this](std::exception_ptr error) {
    if (error) log_uncaught_exception(error);
    start_watch_ended_.set();
  });
  co_return;
}

Task<void> Scheduler::watch_start() {
  const auto begin = SteadyClock::now();
  if (started_ || stopping_) co_return;  // a notification before this turn would be lost
  co_await started_or_stopping_.wait_until(begin + 10s);
  if (started_ || stopping_) co_return;
  for (const auto& function : functions_) {
    function->logger().warning(
        "scheduled function loop cannot start yet - start waiter not done for 10 seconds");
  }
  co_await started_or_stopping_.wait_until(begin + 120s);
  if (started_ || stopping_) co_return;
  for (const auto& function : functions_) {
    function->logger().warning(
        "scheduled function loop cannot start yet - start waiter not done for 120 seconds");
    get_logger("exception").error("scheduled function loop not started for 120 seconds");
  }
}

Task<void> Scheduler::started() {
  started_ = true;
  started_or_stopping_.set();
  for (const auto& function : functions_) function->start_loop();
  co_return;
}

void Scheduler::stop_requested() noexcept {
  stopping_ = true;
  for (const auto& function : functions_) function->request_stop();
  started_or_stopping_.set();
}

Task<void> Scheduler::stop(Deadline deadline) {
  stop_requested();
  co_await start_watch_ended_.wait();
  if (!started_) {
    for (const auto& function : functions_) {
      function->logger().warning(
          "scheduled function loop never started before service termination");
    }
    co_return;
  }
  for (const auto& function : functions_) co_await function->wait_until_loop_ended();
  co_await await_invocations(deadline);
}

Task<void> Scheduler::await_invocations(Deadline deadline) {
  bool first_report = true;
  auto report_at = SteadyClock::now() + 2s;
  running_.close();  // the loops have ended: nothing starts any more
  while (running_.count() > 0) {
    if (co_await running_.wait_until(std::min(report_at, deadline))) break;
    if (SteadyClock::now() >= deadline) {
      for (const auto& function : functions_) {
        if (function->running() == 0) continue;
        function->logger().warning(
            "scheduled tasks still running at the stop deadline - continuing the stop sequence",
            {{"task_count", function->running()}});
      }
      break;
    }
    if (SteadyClock::now() >= report_at) {
      for (const auto& function : functions_) function->report_running(first_report);
      first_report = false;
      report_at = SteadyClock::now() + 10s;
    }
  }
}

}  // namespace tomodachi::schedule_impl
