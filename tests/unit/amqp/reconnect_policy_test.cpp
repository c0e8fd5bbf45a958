// When a lost AMQP connection is opened again (docs/amqp.md, "Reconnect"): time is passed
// in, so the schedule is checked exactly, without waiting.
#include "amqp/reconnect_policy.hpp"

#include <gtest/gtest.h>

namespace amqp = tomodachi::amqp_impl;
using namespace std::chrono_literals;

namespace {

using Clock = amqp::ReconnectPolicy::Clock;

amqp::ReconnectPolicy policy() { return amqp::ReconnectPolicy(100ms, 3000ms); }

// A policy whose connection, open for a minute, was just lost; `now` becomes the time of
// its first reconnect attempt.
amqp::ReconnectPolicy lost_after_a_minute(Clock::time_point& now) {
  auto p = policy();
  p.opened(now);
  p.lost(now + 60s);
  now = p.next_attempt();
  return p;
}

}  // namespace

TEST(ReconnectPolicy, AConnectionLostLongAfterItOpenedReconnectsAfterTheMinimumDelay) {
  auto p = policy();
  const Clock::time_point start{};
  p.opened(start);
  p.lost(start + 60s);
  EXPECT_EQ(p.next_attempt(), start + 60s + 100ms);
}

TEST(ReconnectPolicy, FailedAttemptsDoubleTheDelayUpToTheMaximum) {
  Clock::time_point now{};
  auto p = lost_after_a_minute(now);
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 7; ++i) {
    p.attempt_failed(now);
    delays.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(p.next_attempt() - now));
    now = p.next_attempt();
  }
  EXPECT_EQ(delays, (std::vector<std::chrono::milliseconds>{200ms, 400ms, 800ms, 1600ms, 3000ms,
                                                            3000ms, 3000ms}));
}

TEST(ReconnectPolicy, AConnectionLostSoonAfterOpeningKeepsBackingOff) {
  auto p = policy();
  Clock::time_point now{};
  p.opened(now);
  p.lost(now + 60s);  // 100 ms
  now = p.next_attempt();
  p.opened(now);
  EXPECT_TRUE(p.replay_started(0));  // nothing to replay: the backoff is reset
  p.lost(now + 1s);                  // but it was lost within the maximum delay: unstable
  EXPECT_EQ(p.next_attempt(), now + 1s + 100ms);
  now = p.next_attempt();
  p.opened(now);
  p.replay_started(2);
  p.lost(now + 10s);  // the replay never went through
  EXPECT_EQ(p.backoff(), 200ms);
}

TEST(ReconnectPolicy, AReplayTheBrokerRefusedKeepsTheBackoffGrowing) {
  Clock::time_point now{};
  auto p = lost_after_a_minute(now);
  for (int round = 0; round < 6; ++round) {
    p.opened(now);
    EXPECT_FALSE(p.replay_started(2));
    EXPECT_FALSE(p.replayed_step_answered(true));  // e.g. 405 RESOURCE_LOCKED
    EXPECT_FALSE(p.replayed_step_answered(false));
    p.lost(now + 60s);  // even long after: the refused replay counts
    now = p.next_attempt();
  }
  EXPECT_EQ(p.backoff(), 3000ms);
}

TEST(ReconnectPolicy, AReplayThatWentThroughResetsTheBackoff) {
  Clock::time_point now{};
  auto p = lost_after_a_minute(now);
  p.attempt_failed(now);
  p.attempt_failed(now);
  EXPECT_EQ(p.backoff(), 400ms);
  p.opened(now);
  EXPECT_FALSE(p.replay_started(2));
  EXPECT_FALSE(p.replayed_step_answered(false));
  EXPECT_EQ(p.replay_remaining(), 1u);
  EXPECT_TRUE(p.replayed_step_answered(false));
  EXPECT_EQ(p.backoff(), 0ms);
  EXPECT_FALSE(p.replayed_step_answered(false));  // no replay running: ignored
  p.lost(now + 60s);
  EXPECT_EQ(p.next_attempt(), now + 60s + 100ms);
}
