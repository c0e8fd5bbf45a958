// Skipped duplicates logged per burst (src/messaging/duplicate_log.hpp).
#include "messaging/duplicate_log.hpp"

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace tomodachi {
namespace {

constexpr std::string_view processed_text =
    "ignored duplicate message already processed in the last minute";
constexpr std::string_view in_progress_text =
    "duplicate of a message being handled: delivering it again later";

}  // namespace

struct DuplicateLog::Shared {
  DuplicateLog* owner = nullptr;
  bool armed = false;
  boost::asio::any_io_executor executor;  // of the default timer
  // Owned by its pending wait: the loop (or its destruction) ends the timer, never this log.
  std::weak_ptr<boost::asio::steady_timer> timer;
};

DuplicateLog::DuplicateLog(Logger logger, std::function<Clock::time_point()> now, Schedule schedule,
                           std::chrono::milliseconds window)
    : logger_(std::move(logger)),
      now_(std::move(now)),
      schedule_(std::move(schedule)),
      window_(window),
      shared_(std::make_shared<Shared>()) {
  shared_->owner = this;
}

DuplicateLog::~DuplicateLog() {
  shared_->owner = nullptr;
  if (const auto timer = shared_->timer.lock()) timer->cancel();
  try {
    end_bursts();
  } catch (...) {  // a failing log sink must not escape a destructor
  }
}

void DuplicateLog::processed(const Logger& log, const boost::json::value& message_uuid,
                             const boost::asio::any_io_executor& executor) {
  const bool first = count(Kind::processed, std::chrono::milliseconds(0), executor);
  log.log(first ? LogLevel::warning : LogLevel::debug, processed_text,
          {{"message_uuid", message_uuid}});
}

void DuplicateLog::in_progress(const Logger& log, const boost::json::value& message_uuid,
                               std::chrono::milliseconds retry_in,
                               const boost::asio::any_io_executor& executor) {
  const bool first = count(Kind::in_progress, retry_in, executor);
  log.log(first ? LogLevel::warning : LogLevel::debug, in_progress_text,
          {{"message_uuid", message_uuid}, {"retry_in_ms", retry_in.count()}});
}

void DuplicateLog::end_quiet_bursts() {
  const Clock::time_point current = now();
  for (const Kind kind : {Kind::processed, Kind::in_progress}) {
    const Burst& burst = bursts_[static_cast<std::size_t>(kind)];
    if (burst.count > 0 && current - burst.last >= window_) end(kind);
  }
}

void DuplicateLog::end_bursts() {
  end(Kind::processed);
  end(Kind::in_progress);
}

std::size_t DuplicateLog::open_count(Kind kind) const noexcept {
  return bursts_[static_cast<std::size_t>(kind)].count;
}

bool DuplicateLog::count(Kind kind, std::chrono::milliseconds retry_in,
                         const boost::asio::any_io_executor& executor) {
  end_quiet_bursts();
  Burst& burst = bursts_[static_cast<std::size_t>(kind)];
  const auto wall = std::chrono::system_clock::now();
  ++burst.count;
  burst.last = now();
  burst.last_seen = wall;
  burst.retry_in = retry_in;
  if (burst.count == 1) {
    burst.first_seen = wall;
    return true;
  }
  // From the second copy on a summary is due: the timer logs it once the burst is over.
  if (burst.count == 2) arm(window_, executor);
  return false;
}

void DuplicateLog::end(Kind kind) {
  Burst burst = std::exchange(bursts_[static_cast<std::size_t>(kind)], Burst{});
  if (burst.count < 2) return;  // the first copy's warning says it all
  const auto count = static_cast<std::int64_t>(burst.count);
  LogFields fields{{"count", count},
                   {"first_seen", boost::json::string(iso8601_utc(burst.first_seen))},
                   {"last_seen", boost::json::string(iso8601_utc(burst.last_seen))}};
  if (kind == Kind::processed) {
    logger_.warning("ignored " + std::to_string(count) +
                        " duplicate messages already processed in the last minute",
                    std::move(fields));
    return;
  }
  fields.push_back({"retry_in_ms", burst.retry_in.count()});
  logger_.warning("deferred " + std::to_string(count) +
                      " duplicates of messages being handled: delivering them again later",
                  std::move(fields));
}

// One timer at a time; when it fires it ends the quiet bursts and waits again for a burst
// that is still going on. It holds the log weakly: a log gone meanwhile ended its bursts.
void DuplicateLog::arm(std::chrono::milliseconds delay,
                       const boost::asio::any_io_executor& executor) {
  if (shared_->armed) return;
  shared_->armed = true;
  std::function<void()> fire = [weak = std::weak_ptr<Shared>(shared_)] {
    const std::shared_ptr<Shared> shared = weak.lock();
    if (!shared || shared->owner == nullptr) return;
    DuplicateLog& log = *shared->owner;
    shared->armed = false;
    log.end_quiet_bursts();
    std::optional<Clock::time_point> next;
    for (const Burst& burst : log.bursts_) {
      if (burst.count >= 2) next = std::min(next.value_or(burst.last), burst.last);
    }
    if (!next) return;
    const auto remaining =
        std::chrono::ceil<std::chrono::milliseconds>(*next + log.window_ - log.now());
    log.arm(std::max(remaining, std::chrono::milliseconds(1)), shared->executor);
  };
  if (schedule_) {
    schedule_(delay, std::move(fire));
    return;
  }
  if (executor) shared_->executor = executor;
  if (!shared_->executor) {  // nowhere to wait: the next duplicate or the end ends the burst
    shared_->armed = false;
    return;
  }
  auto timer = std::make_shared<boost::asio::steady_timer>(shared_->executor, delay);
  shared_->timer = timer;
  timer->async_wait([timer, fire = std::move(fire)](const boost::system::error_code& error) {
    if (!error) fire();
  });
}

}  // namespace tomodachi
