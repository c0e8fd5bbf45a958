#include "amqp/reconnect_policy.hpp"

#include <tomodachi/detail/assert.hpp>

#include <algorithm>

namespace tomodachi::amqp_impl {

ReconnectPolicy::ReconnectPolicy(std::chrono::milliseconds min_delay,
                                 std::chrono::milliseconds max_delay)
    : min_delay_(min_delay), max_delay_(max_delay) {
  TOMODACHI_ASSERT(min_delay_ <= max_delay_, "reconnect delays: minimum above maximum");
}

std::chrono::milliseconds ReconnectPolicy::grown() const {
  return std::clamp(backoff_ * 2, min_delay_, max_delay_);
}

void ReconnectPolicy::opened(Clock::time_point now) { connected_at_ = now; }

bool ReconnectPolicy::replay_started(std::size_t steps) {
  replay_remaining_ = steps;
  replay_failed_ = false;
  if (steps > 0) return false;
  backoff_ = std::chrono::milliseconds(0);
  return true;
}

bool ReconnectPolicy::replayed_step_answered(bool refused) {
  if (replay_remaining_ == 0) return false;
  if (refused) replay_failed_ = true;
  if (--replay_remaining_ > 0 || replay_failed_) return false;
  backoff_ = std::chrono::milliseconds(0);
  return true;
}

void ReconnectPolicy::lost(Clock::time_point now) {
  // Lost again before the replay went through, or soon after connecting: keep growing the
  // backoff.
  const bool unstable = replay_remaining_ > 0 || replay_failed_ || now - connected_at_ < max_delay_;
  backoff_ = unstable ? grown() : min_delay_;
  replay_remaining_ = 0;
  next_attempt_ = now + backoff_;
  TOMODACHI_ASSERT(backoff_ >= min_delay_ && backoff_ <= max_delay_,
                   "the backoff stays within its bounds");
}

void ReconnectPolicy::attempt_failed(Clock::time_point now) {
  backoff_ = grown();
  next_attempt_ = now + backoff_;
  TOMODACHI_ASSERT(backoff_ >= min_delay_ && backoff_ <= max_delay_,
                   "the backoff stays within its bounds");
}

}  // namespace tomodachi::amqp_impl
