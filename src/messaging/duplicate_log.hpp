#pragma once
/// @file
/// The records of skipped duplicates, aggregated per burst (issue 13 item 7): after a broker
/// restart a whole prefetch window of already handled messages comes back at once, and a
/// warning per copy floods the log.
///
/// Per subscription and kind (a copy of a message handled in the last minute, a copy of a
/// message being handled right now): the first duplicate of a burst is logged at once at
/// `warning` with upstream's text and its `message_uuid`; the further ones, as long as each
/// comes within `window` of the previous one, at `debug` with the same text. When the burst
/// ends (no duplicate for `window`: noticed by the next duplicate, by a timer, or when the
/// subscription goes away) a burst of more than one copy gets one `warning` summary with
/// `count` (every copy of the burst, the first included), `first_seen` and `last_seen`.

#include <tomodachi/logging.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

namespace tomodachi {

class DuplicateLog {
 public:
  using Clock = std::chrono::steady_clock;
  /// Runs the action once after the delay on the subscription's loop. Null = a
  /// `steady_timer` on the executor the duplicate was dispatched on.
  using Schedule = std::function<void(std::chrono::milliseconds, std::function<void()>)>;

  enum class Kind : std::size_t {
    processed,    ///< handled within the last minute: skipped
    in_progress,  ///< being handled right now: delivered again later
  };

  /// `logger`: the subscription's handler logger (the summaries' logger and fields).
  /// `now`: the clock deciding bursts (null = steady_clock, the duplicate registry's).
  DuplicateLog(Logger logger, std::function<Clock::time_point()> now = {}, Schedule schedule = {},
               std::chrono::milliseconds window = std::chrono::seconds(1));
  /// Ends the open bursts (their summaries are logged) and cancels the timer.
  ~DuplicateLog();
  DuplicateLog(const DuplicateLog&) = delete;
  DuplicateLog& operator=(const DuplicateLog&) = delete;

  /// A copy of a message handled within the last minute was acked without its handler;
  /// `log` is the message's logger. `executor` arms the burst-end timer (no Schedule).
  void processed(const Logger& log, const boost::json::value& message_uuid,
                 const boost::asio::any_io_executor& executor);
  /// A copy of a message being handled is offered again in `retry_in`.
  void in_progress(const Logger& log, const boost::json::value& message_uuid,
                   std::chrono::milliseconds retry_in,
                   const boost::asio::any_io_executor& executor);

  /// Ends the bursts whose last duplicate is `window` old or older.
  void end_quiet_bursts();
  /// Ends every open burst now.
  void end_bursts();

  /// Copies counted in the open burst of `kind` (0 = none open).
  std::size_t open_count(Kind kind) const noexcept;

 private:
  struct Burst {
    std::size_t count = 0;
    Clock::time_point last{};
    std::chrono::system_clock::time_point first_seen{};
    std::chrono::system_clock::time_point last_seen{};
    std::chrono::milliseconds retry_in{0};
  };
  struct Shared;

  // Counts the copy; true = the first of its burst (logged at warning).
  bool count(Kind kind, std::chrono::milliseconds retry_in,
             const boost::asio::any_io_executor& executor);
  void end(Kind kind);
  void arm(std::chrono::milliseconds delay, const boost::asio::any_io_executor& executor);
  Clock::time_point now() const { return now_ ? now_() : Clock::now(); }

  Logger logger_;
  std::function<Clock::time_point()> now_;
  Schedule schedule_;
  std::chrono::milliseconds window_;
  std::array<Burst, 2> bursts_;
  // What a pending timer reaches: this log while it lives (timers outlive it harmlessly).
  std::shared_ptr<Shared> shared_;
};

}  // namespace tomodachi
