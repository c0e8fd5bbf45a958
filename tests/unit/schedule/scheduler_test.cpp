// The "schedule" transport on its own loop: start after `started`, `immediately`,
// drift-free due times, exceptions, stop (no new runs, running ones awaited up to the
// deadline, "never started"), counters, and the overlap rule.

#include "schedule/scheduler.hpp"

#include <tomodachi/context.hpp>
#include <tomodachi/logging.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mutex>
#include <stdexcept>

namespace tomodachi::schedule_impl {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using Verdict = OverlapLimit::Verdict;

// ---- overlap rule -------------------------------------------------------------------------

TEST(OverlapLimit, SkipsAtTwentyRunningAndResumesBelowFifteen) {
  OverlapLimit limit;
  EXPECT_EQ(limit.admit(0), Verdict::run);
  EXPECT_EQ(limit.admit(19), Verdict::run);
  EXPECT_EQ(limit.warning_threshold(), 20u);
  EXPECT_EQ(limit.admit(20), Verdict::skip_and_warn);
  EXPECT_EQ(limit.warning_threshold(), 40u);
  EXPECT_EQ(limit.admit(25), Verdict::skip);
  EXPECT_EQ(limit.admit(19), Verdict::skip);
  EXPECT_EQ(limit.admit(15), Verdict::skip);
  EXPECT_EQ(limit.admit(14), Verdict::resume_and_run);
  EXPECT_EQ(limit.warning_threshold(), 20u);
  EXPECT_EQ(limit.admit(19), Verdict::run);
  EXPECT_EQ(limit.admit(20), Verdict::skip_and_warn);
}

// ---- the transport ------------------------------------------------------------------------

/// Log records of the test, collected through a sink.
class RecordedLogs {
 public:
  RecordedLogs()
      : id_(add_log_sink([this](const LogRecord& record) {
          std::lock_guard lock(mutex_);
          messages_.push_back(std::string(record.logger) + ": " +
                              std::string(record.message.value_or("")));
          for (const auto& field : record.fields) {
            if (field.key == "task_name")
              task_names_.push_back(std::string(field.value.as_string()));
          }
        })) {}
  ~RecordedLogs() { remove_log_sink(id_); }

  std::vector<std::string> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::size_t count(const std::string& message) const {
    const auto all = messages();
    return static_cast<std::size_t>(std::count(all.begin(), all.end(), message));
  }
  std::vector<std::string> task_names() const {
    std::lock_guard lock(mutex_);
    return task_names_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> messages_;
  std::vector<std::string> task_names_;
  int id_;
};

class SchedulerTest : public ::testing::Test {
 protected:
  using TimePoint = std::chrono::system_clock::time_point;

  /// A function recording its invocation times, optionally sleeping or throwing.
  void add(ScheduleSpec when, std::string name, std::chrono::milliseconds runs_for = 0ms,
           bool throws = false) {
    specs_.push_back(std::make_unique<ScheduleHandlerSpec>(
        name, std::move(when),
        [this, name, runs_for, throws](const ScheduleInvocation& invocation) -> Task<void> {
          return run(name, invocation.invocation_time, runs_for, throws);
        }));
  }

  Task<void> run(std::string name, TimePoint invocation_time, std::chrono::milliseconds runs_for,
                 bool throws) {
    invocations_.push_back({name, invocation_time});
    if (runs_for > 0ms) {
      asio::steady_timer timer(loop_, runs_for);
      co_await timer.async_wait(asio::use_awaitable);
      ++finished_;
    }
    if (throws) throw std::runtime_error("boom");
  }

  std::unique_ptr<Scheduler> make_scheduler() {
    std::vector<const HandlerSpec*> specs;
    for (const auto& spec : specs_) specs.push_back(spec.get());
    return std::make_unique<Scheduler>(specs, loop_.get_executor());
  }

  /// Runs `step` to completion on the loop, then the loop for `extra` more.
  void complete(Task<void> step, std::chrono::milliseconds extra = 0ms) {
    bool done = false;
    asio::co_spawn(loop_, std::move(step), [&done](std::exception_ptr error) {
      if (error) std::rethrow_exception(error);
      done = true;
    });
    while (!done) loop_.run_one_for(10s);
    if (extra > 0ms) loop_.run_for(extra);
  }

  std::vector<TimePoint> times_of(const std::string& name) const {
    std::vector<TimePoint> times;
    for (const auto& [function, time] : invocations_) {
      if (function == name) times.push_back(time);
    }
    return times;
  }

  asio::io_context loop_;
  RecordedLogs logs_;
  std::vector<std::unique_ptr<ScheduleHandlerSpec>> specs_;
  std::vector<std::pair<std::string, TimePoint>> invocations_;
  int finished_ = 0;
};

TEST_F(SchedulerTest, NothingRunsBeforeStartedThenImmediatelyAndEverySecond) {
  add(every(1s).run_immediately(), "tick");
  add(every(1s), "tock");
  auto scheduler = make_scheduler();
  complete(scheduler->start(), 1200ms);
  EXPECT_TRUE(invocations_.empty());

  const auto before_started = std::chrono::system_clock::now();
  complete(scheduler->started(), 2300ms);
  const auto ticks = times_of("tick");
  ASSERT_EQ(ticks.size(), 3u);
  EXPECT_GE(ticks[0], before_started);
  EXPECT_LT(ticks[0] - before_started, 50ms);
  EXPECT_EQ(ticks[1] - ticks[0], 1s);  // due times, exactly one period apart
  EXPECT_EQ(ticks[2] - ticks[1], 1s);
  EXPECT_EQ(times_of("tock").size(), 2u);
  complete(scheduler->stop(std::chrono::steady_clock::now() + 5s));
}

TEST_F(SchedulerTest, ExceptionsAreLoggedAndTheScheduleGoesOn) {
  add(every(1s).run_immediately(), "failing", 0ms, true);
  auto scheduler = make_scheduler();
  complete(scheduler->start());
  complete(scheduler->started(), 1200ms);
  complete(scheduler->stop(std::chrono::steady_clock::now() + 5s));
  EXPECT_EQ(times_of("failing").size(), 2u);
  EXPECT_EQ(logs_.count("exception: uncaught exception: boom"), 2u);
}

TEST_F(SchedulerTest, StopStartsNothingNewAndAwaitsRunningInvocations) {
  add(every(1s).run_immediately(), "slow", 400ms);
  auto scheduler = make_scheduler();
  complete(scheduler->start());
  complete(scheduler->started(), 100ms);
  ASSERT_EQ(invocations_.size(), 1u);
  ASSERT_EQ(finished_, 0);
  const auto stop_began = std::chrono::steady_clock::now();
  complete(scheduler->stop(stop_began + 5s));
  EXPECT_EQ(finished_, 1);  // stop returned only after the running invocation finished
  EXPECT_GE(std::chrono::steady_clock::now() - stop_began, 250ms);
  loop_.run_for(1500ms);
  EXPECT_EQ(invocations_.size(), 1u);  // and nothing was started after it
}

TEST_F(SchedulerTest, RunningInvocationsAreReportedAndTheWaitEndsAtTheDeadline) {
  add(every(1s).run_immediately(), "stuck", 24h);  // only the deadline ends the wait
  auto scheduler = make_scheduler();
  complete(scheduler->start());
  complete(scheduler->started(), 50ms);
  const auto stop_began = std::chrono::steady_clock::now();
  complete(scheduler->stop(stop_began + 2500ms));
  const auto waited = std::chrono::steady_clock::now() - stop_began;
  EXPECT_GE(waited, 2400ms);
  EXPECT_EQ(logs_.count("tomodachi.scheduler: awaiting task to complete"), 1u);
  EXPECT_EQ(logs_.count("tomodachi.scheduler: scheduled tasks still running at the stop deadline - "
                        "continuing the stop sequence"),
            1u);
  ASSERT_EQ(logs_.task_names().size(), 1u);
  EXPECT_THAT(logs_.task_names()[0], ::testing::StartsWith("stuck/"));
  EXPECT_EQ(finished_, 0);  // never cancelled
}

Task<void> started_then_stopped(Scheduler& scheduler, Deadline deadline) {
  co_await scheduler.started();
  co_await scheduler.stop(deadline);
}

TEST_F(SchedulerTest, StopRightAfterStartedRunsNothingMoreAndReturnsPromptly) {
  add(every(1s).run_immediately(), "immediate");
  add(every(1s), "periodic");
  auto scheduler = make_scheduler();
  complete(scheduler->start());
  const auto stop_began = std::chrono::steady_clock::now();
  // Nothing is running: the stop must not wait for its (distant) deadline.
  complete(started_then_stopped(*scheduler, stop_began + 24h));
  loop_.run_for(1500ms);
  EXPECT_EQ(times_of("immediate").size(), 1u);  // the immediate run is part of `started`
  EXPECT_TRUE(times_of("periodic").empty());
}

TEST_F(SchedulerTest, StopBeforeStartedWarnsForEveryFunction) {
  add(every(1s), "one");
  add(cron("* * * * *"), "two");
  auto scheduler = make_scheduler();
  complete(scheduler->start());
  complete(scheduler->stop(std::chrono::steady_clock::now() + 5s));
  EXPECT_EQ(logs_.count("tomodachi.scheduler: scheduled function loop never started before "
                        "service termination"),
            2u);
  EXPECT_TRUE(invocations_.empty());
}

TEST_F(SchedulerTest, ExecutionContextCountsCurrentAndTotalTasks) {
  add(every(1s).run_immediately(), "counted", 300ms);
  auto scheduler = make_scheduler();
  EXPECT_EQ(get_execution_context().at("scheduled_functions_enabled"), true);
  const auto total_before =
      get_execution_context().at("scheduled_functions_total_tasks").as_int64();
  complete(scheduler->start());
  complete(scheduler->started(), 100ms);
  EXPECT_EQ(get_execution_context().at("scheduled_functions_current_tasks"), 1);
  complete(scheduler->stop(std::chrono::steady_clock::now() + 5s));
  EXPECT_EQ(get_execution_context().at("scheduled_functions_current_tasks"), 0);
  EXPECT_EQ(get_execution_context().at("scheduled_functions_total_tasks").as_int64(),
            total_before + 1);
}

TEST_F(SchedulerTest, InvalidSpecsAbortTheStart) {
  specs_.push_back(std::make_unique<ScheduleHandlerSpec>(
      "bad", ScheduleSpec{.interval = "5 minutes"},
      [](const ScheduleInvocation&) -> Task<void> { co_return; }));
  EXPECT_THROW(make_scheduler(), ScheduleError);
}

TEST_F(SchedulerTest, HandlersGetTheirIntervalAndLogger) {
  std::vector<std::string> seen;
  specs_.push_back(std::make_unique<ScheduleHandlerSpec>(
      "described", every(1s).run_immediately(),
      [&seen](const ScheduleInvocation& invocation) -> Task<void> {
        seen.push_back(invocation.interval->to_string());
        seen.push_back(invocation.logger.name());
        seen.push_back(std::string(invocation.logger.context().at(0).value.as_string()));
        co_return;
      }));
  auto scheduler = make_scheduler();
  complete(scheduler->start());
  complete(scheduler->started(), 50ms);
  complete(scheduler->stop(std::chrono::steady_clock::now() + 5s));
  EXPECT_THAT(seen, ElementsAre("1", "tomodachi.schedule.handler", "described"));
}

}  // namespace
}  // namespace tomodachi::schedule_impl
