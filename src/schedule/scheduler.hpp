#pragma once
// The "schedule" transport: one loop per scheduled function that sleeps until the next
// due instant and starts the function there (spec/schedule.md §6–§8).

#include "core/async.hpp"
#include "schedule/engine.hpp"

#include <tomodachi/context.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/schedule.hpp>
#include <tomodachi/transport/transport.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tomodachi::schedule_impl {

/// The process's `scheduled_functions_*` execution-context counters, shared by every
/// scheduler of the process and shown while one exists.
struct ScheduleCounters {
  ExecutionCounter current_tasks{"scheduled_functions_current_tasks"};
  ExecutionCounter total_tasks{"scheduled_functions_total_tasks"};

  static std::shared_ptr<ScheduleCounters> shared();
};

/// Overlap limit of one function (spec/schedule.md §6): with 20 invocations still running
/// a due run is skipped; once skipping, runs resume when fewer than 15 are running.
inline constexpr std::size_t task_limit = 20;
inline constexpr std::size_t resume_task_count = 15;

class OverlapLimit {
 public:
  enum class Verdict {
    run,
    skip,
    skip_and_warn,   ///< the first skip: log `too many scheduled tasks ...`
    resume_and_run,  ///< the first run after skipping: log `... resumed ...`
  };

  /// The verdict for a due run while `running` invocations are still running.
  Verdict admit(std::size_t running);
  /// `task_limit` of the records: 20, doubled after each warning, reset on resume.
  std::size_t warning_threshold() const noexcept { return warning_threshold_; }

 private:
  bool skipping_ = false;
  std::size_t warning_threshold_ = task_limit;
};
/// Missed due times older than this are skipped instead of run late.
inline constexpr std::chrono::seconds max_catch_up{60};

/// The loop and the running invocations of one scheduled function.
class ScheduledFunction {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  ScheduledFunction(const ScheduleHandlerSpec& spec, Schedule schedule,
                    std::shared_ptr<ScheduleCounters> counters, core::Gate& running,
                    const boost::asio::any_io_executor& executor);

  /// Starts the loop; the schedule's reference time (integer intervals) is now.
  void start_loop();
  /// No new invocations from now on (takes effect at once).
  void request_stop();
  /// Returns when the loop has ended (after `request_stop`).
  Task<void> wait_until_loop_ended();

  /// Warns about every invocation still running (`awaiting task to complete` first,
  /// `still awaiting task to finish` after that).
  void report_running(bool first_report) const;

  const Logger& logger() const noexcept { return logger_; }
  std::size_t running() const noexcept { return running_tasks_.size(); }

 private:
  Task<void> loop();
  /// Runs the due invocation (if the overlap limit admits it) and returns the next due time.
  std::optional<TimePoint> fire(TimePoint due, TimePoint now);
  bool admit_invocation();
  std::optional<TimePoint> first_due_after(std::optional<TimePoint> due, TimePoint time) const;
  std::optional<TimePoint> skip_missed(std::optional<TimePoint> due, TimePoint now);
  void launch(TimePoint invocation_time);
  Task<void> run_invocation(ScheduleInvocation invocation);
  /// `run` inside the function's span (tracing on).
  Task<void> traced(const ScheduleInvocation& invocation, Task<void> run) const;
  void finished(std::uint64_t id);

  const ScheduleHandlerSpec& spec_;
  Schedule schedule_;
  std::shared_ptr<ScheduleCounters> counters_;
  core::Gate& running_;  ///< every invocation of the scheduler holds it while it runs
  boost::asio::any_io_executor executor_;
  Logger logger_;           ///< `tomodachi.scheduler`, `handler=<name>`
  Logger handler_logger_;   ///< `tomodachi.schedule.handler`, for the handler itself
  core::Event stopping_;    ///< no new invocations; cuts the loop's sleep short
  core::Event loop_ended_;  ///< set when the loop has ended (or never started)
  OverlapLimit overlap_limit_;
  std::uint64_t next_task_id_ = 0;
  std::map<std::uint64_t, std::string> running_tasks_;  ///< id → task name
};

/// The transport instance of one service's scheduled functions.
class Scheduler final : public TransportInstance {
 public:
  /// Compiles every spec (throws ScheduleError); loops and invocations run on `executor`.
  Scheduler(const std::vector<const HandlerSpec*>& specs, boost::asio::any_io_executor executor);

  Task<void> start() override;
  Task<void> started() override;
  void stop_requested() noexcept override;
  Task<void> stop(Deadline deadline) override;

 private:
  Task<void> watch_start();
  Task<void> await_invocations(Deadline deadline);

  boost::asio::any_io_executor executor_;
  core::Gate running_;  ///< invocations still running across the functions
  std::vector<std::unique_ptr<ScheduledFunction>> functions_;
  core::Event started_or_stopping_;  ///< ends the start watch's waits
  core::Event start_watch_ended_;    ///< set when the start watch ended (or never started)
  bool started_ = false;
  bool stopping_ = false;
};

}  // namespace tomodachi::schedule_impl
