#pragma once
// When a lost connection is opened again: backoff from the minimum delay doubling to the
// maximum (0.1 s to 3 s by default, docs/amqp.md). The backoff is reset only once the
// replay of the topology went through after a reconnect; a connection lost again before
// that, or soon after it opened, keeps backing off, so that a replay the broker refuses
// (e.g. a queue now exclusive to another connection) does not become a reconnect storm.
// Pure bookkeeping: the caller passes the time.

#include <chrono>
#include <cstddef>

namespace tomodachi::amqp_impl {

class ReconnectPolicy {
 public:
  using Clock = std::chrono::steady_clock;

  ReconnectPolicy(std::chrono::milliseconds min_delay, std::chrono::milliseconds max_delay);

  /// The connection opened at `now` (the first connect or a reconnect).
  void opened(Clock::time_point now);
  /// After a reconnect, `steps` recorded steps are replayed. True when there are none: the
  /// replay went through at once (backoff reset).
  bool replay_started(std::size_t steps);
  /// A replayed step was answered, `refused` by the broker or not. True when it was the last
  /// one and none was refused (backoff reset). Ignored when no replay is running.
  bool replayed_step_answered(bool refused);
  /// The connection was lost at `now`: schedules the next attempt.
  void lost(Clock::time_point now);
  /// A reconnect attempt failed at `now`: schedules the next one, later.
  void attempt_failed(Clock::time_point now);

  Clock::time_point next_attempt() const noexcept { return next_attempt_; }
  std::chrono::milliseconds backoff() const noexcept { return backoff_; }
  /// Replayed steps not answered yet.
  std::size_t replay_remaining() const noexcept { return replay_remaining_; }

 private:
  std::chrono::milliseconds grown() const;

  const std::chrono::milliseconds min_delay_;
  const std::chrono::milliseconds max_delay_;
  std::chrono::milliseconds backoff_{0};
  std::size_t replay_remaining_ = 0;
  bool replay_failed_ = false;  // the broker refused a replayed step: keep the backoff
  Clock::time_point connected_at_{};
  Clock::time_point next_attempt_{};
};

}  // namespace tomodachi::amqp_impl
