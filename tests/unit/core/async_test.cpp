// core::Event, core::Gate, core::AsyncMutex and core::sleep_for: who wakes when, in which
// order, what a cancelled or abandoned waiter sees. The loop is driven with poll() (run
// what is ready, never wait): a waiter that is done after a poll was resumed by the
// primitive, not by time.

#include "core/async.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/system_error.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace core = tomodachi::core;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using tomodachi::Task;

namespace {

/// The outcome of one spawned coroutine.
template <typename T>
struct Outcome {
  bool done = false;
  std::optional<T> value;
  std::exception_ptr error;
};

template <typename T>
std::shared_ptr<Outcome<T>> spawn(asio::io_context& io, Task<T> task,
                                  asio::cancellation_slot slot = {}) {
  auto outcome = std::make_shared<Outcome<T>>();
  asio::co_spawn(io, std::move(task),
                 asio::bind_cancellation_slot(slot, [outcome](std::exception_ptr error, T value) {
                   outcome->done = true;
                   outcome->error = error;
                   if (!error) outcome->value = std::move(value);
                 }));
  return outcome;
}

/// Runs what is ready on `io` (handlers only: nothing waits for time to pass).
void poll(asio::io_context& io) {
  io.restart();  // (a loop that ran out of work stays stopped until restarted)
  io.poll();
}

/// Runs `io` until `outcome` is done (the waits that need time to pass).
template <typename T>
void run_until_done(asio::io_context& io, const std::shared_ptr<Outcome<T>>& outcome) {
  io.restart();
  while (!outcome->done) io.run_one();
}

/// `waiter` is parked after a poll, and after `wake()` and another poll it returned `result`.
template <typename Wake>
void expect_woken(asio::io_context& io, const std::shared_ptr<Outcome<bool>>& waiter, Wake wake,
                  bool result) {
  poll(io);
  EXPECT_FALSE(waiter->done);
  wake();
  poll(io);
  ASSERT_TRUE(waiter->done);
  if (waiter->error) std::rethrow_exception(waiter->error);
  EXPECT_EQ(*waiter->value, result);
}

template <typename T>
void rethrow(const std::shared_ptr<Outcome<T>>& outcome) {
  if (outcome->error) std::rethrow_exception(outcome->error);
}

Task<bool> wait_event(core::Event& event) { co_return co_await event.wait(); }

// ---- Event --------------------------------------------------------------------------------

TEST(CoreEvent, WaitReturnsAtOnceWhileSet) {
  asio::io_context io;
  core::Event event;
  event.set();
  auto waiter = spawn(io, wait_event(event));
  poll(io);
  ASSERT_TRUE(waiter->done);
  EXPECT_TRUE(*waiter->value);
}

TEST(CoreEvent, SetWakesEveryWaiter) {
  asio::io_context io;
  core::Event event;
  std::vector<std::shared_ptr<Outcome<bool>>> waiters;
  for (int i = 0; i < 3; ++i) waiters.push_back(spawn(io, wait_event(event)));
  poll(io);
  for (const auto& waiter : waiters) EXPECT_FALSE(waiter->done);
  EXPECT_EQ(event.waiters(), 3u);
  event.set();
  EXPECT_EQ(event.waiters(), 0u);
  poll(io);
  for (const auto& waiter : waiters) {
    ASSERT_TRUE(waiter->done);
    EXPECT_TRUE(*waiter->value);
  }
}

TEST(CoreEvent, ClearMakesLaterWaitsWait) {
  asio::io_context io;
  core::Event event;
  event.set();
  event.clear();
  EXPECT_FALSE(event.is_set());
  auto waiter = spawn(io, wait_event(event));
  expect_woken(
      io, waiter, [&] { event.set(); }, true);
}

TEST(CoreEvent, ASetWaiterStaysWokenWhenTheEventIsClearedBeforeItRuns) {
  asio::io_context io;
  core::Event event;
  auto waiter = spawn(io, wait_event(event));
  poll(io);
  event.set();
  event.clear();
  poll(io);
  ASSERT_TRUE(waiter->done);
  EXPECT_TRUE(*waiter->value);
}

Task<bool> wait_event_for(core::Event& event, std::chrono::milliseconds timeout) {
  co_return co_await event.wait_for(timeout);
}

TEST(CoreEvent, WaitForReturnsFalseWhenTheTimeoutPassesFirst) {
  asio::io_context io;
  core::Event event;
  auto waiter = spawn(io, wait_event_for(event, 1ms));
  run_until_done(io, waiter);
  EXPECT_FALSE(*waiter->value);
  EXPECT_EQ(event.waiters(), 0u);
}

TEST(CoreEvent, WaitForReturnsTrueWhenSetFirst) {
  asio::io_context io;
  core::Event event;
  auto waiter = spawn(io, wait_event_for(event, 1h));
  poll(io);
  event.set();
  poll(io);
  ASSERT_TRUE(waiter->done);
  EXPECT_TRUE(*waiter->value);
}

TEST(CoreEvent, ACancelledWaitReturnsFalseAndLeavesTheQueue) {
  asio::io_context io;
  core::Event event;
  asio::cancellation_signal cancel;
  auto waiter = spawn(io, wait_event(event), cancel.slot());
  poll(io);
  EXPECT_EQ(event.waiters(), 1u);
  cancel.emit(asio::cancellation_type::terminal);
  poll(io);
  ASSERT_TRUE(waiter->done);
  rethrow(waiter);
  EXPECT_FALSE(*waiter->value);
  EXPECT_EQ(event.waiters(), 0u);
}

TEST(CoreEvent, WaitersOfADestroyedEventReturnFalse) {
  asio::io_context io;
  auto event = std::make_unique<core::Event>();
  auto first = spawn(io, wait_event(*event));
  auto second = spawn(io, wait_event(*event));
  poll(io);
  event.reset();
  poll(io);
  ASSERT_TRUE(first->done);
  ASSERT_TRUE(second->done);
  EXPECT_FALSE(*first->value);
  EXPECT_FALSE(*second->value);
}

TEST(CoreEvent, AWaiterWhoseLoopIsDestroyedLeavesTheQueue) {
  core::Event event;
  {
    asio::io_context io;
    auto waiter = spawn(io, wait_event(event));
    poll(io);
    EXPECT_EQ(event.waiters(), 1u);
  }  // the suspended coroutine's frame goes with the loop
  EXPECT_EQ(event.waiters(), 0u);
  event.set();  // nothing left to resume
}

Task<int> first_of(core::Event& a, core::Event& b) {
  using namespace asio::experimental::awaitable_operators;
  auto wait_a = a.wait();
  auto wait_b = b.wait();
  auto result = co_await (std::move(wait_a) || std::move(wait_b));
  co_return static_cast<int>(result.index());
}

TEST(CoreEvent, AWaitInAnOrIsCancelledByTheOtherBranch) {
  asio::io_context io;
  core::Event a;
  core::Event b;
  auto waiter = spawn(io, first_of(a, b));
  poll(io);
  EXPECT_EQ(a.waiters(), 1u);
  EXPECT_EQ(b.waiters(), 1u);
  b.set();
  poll(io);
  ASSERT_TRUE(waiter->done);
  rethrow(waiter);
  EXPECT_EQ(*waiter->value, 1);
  EXPECT_EQ(a.waiters(), 0u);
}

// ---- Gate ---------------------------------------------------------------------------------

Task<bool> drain(core::Gate& gate) {
  gate.close();
  co_return co_await gate.wait();
}

Task<bool> wait_gate(core::Gate& gate) { co_return co_await gate.wait(); }

TEST(CoreGate, WaitReturnsAtOnceWithoutHolders) {
  asio::io_context io;
  core::Gate gate;
  auto waiter = spawn(io, drain(gate));
  poll(io);
  ASSERT_TRUE(waiter->done);
  EXPECT_TRUE(*waiter->value);
}

TEST(CoreGate, WaitReturnsWhenTheLastHolderLeft) {
  asio::io_context io;
  core::Gate gate;
  gate.enter();
  auto holder = gate.hold();
  auto waiter = spawn(io, drain(gate));
  poll(io);
  EXPECT_FALSE(waiter->done);
  gate.leave();
  poll(io);
  EXPECT_FALSE(waiter->done);
  EXPECT_EQ(gate.count(), 1u);
  holder.leave();
  poll(io);
  ASSERT_TRUE(waiter->done);
  EXPECT_TRUE(*waiter->value);
  EXPECT_EQ(gate.count(), 0u);
}

TEST(CoreGate, AClosedGateRefusesNewHoldersAndKeepsTheOnesItHas) {
  core::Gate gate;
  EXPECT_TRUE(gate.try_enter());
  gate.close();
  EXPECT_TRUE(gate.is_closed());
  EXPECT_THROW(gate.enter(), core::Closed);
  EXPECT_THROW((void)gate.hold(), core::Closed);
  EXPECT_FALSE(gate.try_enter());
  EXPECT_EQ(gate.count(), 1u);
  gate.leave();
  EXPECT_EQ(gate.count(), 0u);
}

TEST(CoreGate, AnOpenGateCanBeWaitedForRepeatedly) {
  asio::io_context io;
  core::Gate gate;
  for (int round = 0; round < 2; ++round) {
    auto holder = gate.hold();
    auto waiter = spawn(io, wait_gate(gate));
    expect_woken(
        io, waiter, [&] { holder.leave(); }, true);
  }
}

TEST(CoreGate, HoldersAreMovedAndLeaveOnce) {
  core::Gate gate;
  {
    core::Gate::Holder outer;
    {
      auto inner = gate.hold();
      outer = std::move(inner);
      EXPECT_FALSE(inner);
    }
    EXPECT_EQ(gate.count(), 1u);
  }
  EXPECT_EQ(gate.count(), 0u);
}

Task<bool> wait_gate_until(core::Gate& gate, std::chrono::steady_clock::time_point deadline) {
  co_return co_await gate.wait_until(deadline);
}

TEST(CoreGate, WaitUntilReturnsFalseAtTheDeadlineWithHoldersLeft) {
  asio::io_context io;
  core::Gate gate;
  auto holder = gate.hold();
  auto waiter = spawn(io, wait_gate_until(gate, std::chrono::steady_clock::now() + 1ms));
  run_until_done(io, waiter);
  EXPECT_FALSE(*waiter->value);
  EXPECT_EQ(gate.count(), 1u);
}

TEST(CoreGate, WaitersOfADestroyedGateReturnFalse) {
  asio::io_context io;
  auto gate = std::make_unique<core::Gate>();
  gate->enter();
  auto waiter = spawn(io, drain(*gate));
  poll(io);
  gate.reset();
  poll(io);
  ASSERT_TRUE(waiter->done);
  EXPECT_FALSE(*waiter->value);
}

// ---- AsyncMutex ---------------------------------------------------------------------------

/// Takes the mutex, notes `name` in `order`, holds it until `release` is set.
Task<bool> take_in_turn(core::AsyncMutex& mutex, std::string name, std::vector<std::string>& order,
                        core::Event& release) {
  auto lock = co_await mutex.lock();
  order.push_back(name);
  co_await release.wait();
  co_return lock.owns_lock();
}

/// A mutex, the order its waiters got it in, and the event that makes them let go.
class CoreAsyncMutex : public ::testing::Test {
 protected:
  std::shared_ptr<Outcome<bool>> queue(const char* name, asio::cancellation_slot slot = {}) {
    return spawn(io, take_in_turn(mutex, name, order, release), slot);
  }

  asio::io_context io;
  core::AsyncMutex mutex;
  std::vector<std::string> order;
  core::Event release;
};

TEST_F(CoreAsyncMutex, WaitersGetTheMutexInArrivalOrder) {
  auto owner = mutex.try_lock();
  ASSERT_TRUE(owner);
  std::vector<std::shared_ptr<Outcome<bool>>> waiters;
  for (const char* name : {"first", "second", "third"}) waiters.push_back(queue(name));
  poll(io);
  EXPECT_TRUE(order.empty());
  EXPECT_EQ(mutex.waiters(), 3u);
  release.set();  // each holder lets go as soon as it has the mutex
  owner->unlock();
  poll(io);
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "third"}));
  for (const auto& waiter : waiters) {
    ASSERT_TRUE(waiter->done);
    rethrow(waiter);
    EXPECT_TRUE(*waiter->value);
  }
  EXPECT_FALSE(mutex.is_locked());
}

TEST_F(CoreAsyncMutex, UnlockHandsOverWithoutBarging) {
  auto owner = mutex.try_lock();
  auto waiter = queue("queued");
  poll(io);
  owner->unlock();
  // The queued waiter owns the mutex before it even runs: nobody can take it meanwhile.
  EXPECT_TRUE(mutex.is_locked());
  EXPECT_FALSE(mutex.try_lock());
  poll(io);
  EXPECT_EQ(order, std::vector<std::string>{"queued"});
  release.set();
  poll(io);
  ASSERT_TRUE(waiter->done);
  EXPECT_FALSE(mutex.is_locked());
}

TEST_F(CoreAsyncMutex, ACancelledWaiterLeavesTheQueueAndTheNextOneGetsTheMutex) {
  release.set();
  asio::cancellation_signal cancel;
  auto owner = mutex.try_lock();
  auto cancelled = queue("cancelled", cancel.slot());
  auto next = queue("next");
  poll(io);
  cancel.emit(asio::cancellation_type::terminal);
  poll(io);
  ASSERT_TRUE(cancelled->done);
  EXPECT_THROW(rethrow(cancelled), boost::system::system_error);
  EXPECT_EQ(mutex.waiters(), 1u);
  owner->unlock();
  poll(io);
  ASSERT_TRUE(next->done);
  rethrow(next);
  EXPECT_EQ(order, std::vector<std::string>{"next"});
  EXPECT_FALSE(mutex.is_locked());
}

TEST_F(CoreAsyncMutex, CloseFailsTheWaitersAndLaterLocksButNotTheOwner) {
  auto owner = mutex.try_lock();
  auto waiter = queue("queued");
  poll(io);
  mutex.close();
  poll(io);
  ASSERT_TRUE(waiter->done);
  EXPECT_THROW(rethrow(waiter), core::Closed);
  EXPECT_TRUE(mutex.is_locked());
  owner->unlock();
  EXPECT_FALSE(mutex.is_locked());
  EXPECT_FALSE(mutex.try_lock());
  auto late = queue("late");
  poll(io);
  ASSERT_TRUE(late->done);
  EXPECT_THROW(rethrow(late), core::Closed);
  EXPECT_TRUE(order.empty());
}

TEST_F(CoreAsyncMutex, WaitersOfADestroyedMutexFailWithClosed) {
  auto doomed = std::make_unique<core::AsyncMutex>();
  auto owner = doomed->try_lock();
  auto waiter = spawn(io, take_in_turn(*doomed, "queued", order, release));
  poll(io);
  EXPECT_EQ(owner->release(), doomed.get());  // (a Lock must not outlive its mutex)
  doomed.reset();
  poll(io);
  ASSERT_TRUE(waiter->done);
  EXPECT_THROW(rethrow(waiter), core::Closed);
  EXPECT_TRUE(order.empty());
}

Task<void> throw_while_locked(core::AsyncMutex& mutex) {
  auto lock = co_await mutex.lock();
  throw std::runtime_error("handler failed");
}

TEST_F(CoreAsyncMutex, TheLockIsReleasedWhenItsOwnerThrows) {
  bool thrown = false;
  asio::co_spawn(io, throw_while_locked(mutex),
                 [&](std::exception_ptr error) { thrown = !!error; });
  poll(io);
  EXPECT_TRUE(thrown);
  EXPECT_FALSE(mutex.is_locked());
}

// ---- sleep_for ----------------------------------------------------------------------------

Task<bool> sleep_with(std::chrono::steady_clock::duration duration, core::Event& cancel) {
  co_return co_await core::sleep_for(duration, cancel);
}

TEST(CoreSleepFor, ReturnsTrueWhenTheDurationPassed) {
  asio::io_context io;
  core::Event cancel;
  auto sleeper = spawn(io, sleep_with(1ms, cancel));
  run_until_done(io, sleeper);
  EXPECT_TRUE(*sleeper->value);
  EXPECT_EQ(cancel.waiters(), 0u);
}

TEST(CoreSleepFor, ReturnsFalseAtOnceWhenTheCancelEventIsSet) {
  asio::io_context io;
  core::Event cancel;
  cancel.set();
  auto sleeper = spawn(io, sleep_with(1h, cancel));
  poll(io);
  ASSERT_TRUE(sleeper->done);
  EXPECT_FALSE(*sleeper->value);
}

TEST(CoreSleepFor, ReturnsFalseWhenTheCancelEventIsSetWhileSleeping) {
  asio::io_context io;
  core::Event cancel;
  auto sleeper = spawn(io, sleep_with(1h, cancel));
  expect_woken(
      io, sleeper, [&] { cancel.set(); }, false);
}

TEST(CoreSleepFor, ReturnsFalseWhenTheSleeperIsCancelled) {
  asio::io_context io;
  core::Event cancel;
  asio::cancellation_signal stop;
  auto sleeper = spawn(io, sleep_with(1h, cancel), stop.slot());
  poll(io);
  stop.emit(asio::cancellation_type::terminal);
  poll(io);
  ASSERT_TRUE(sleeper->done);
  rethrow(sleeper);
  EXPECT_FALSE(*sleeper->value);
  EXPECT_EQ(cancel.waiters(), 0u);
}

Task<bool> sleep_until_wall(std::chrono::system_clock::time_point time, core::Event& cancel) {
  co_return co_await core::sleep_until(time, cancel);
}

TEST(CoreSleepFor, SleepsUntilAWallClockTimeOrTheCancel) {
  asio::io_context io;
  core::Event cancel;
  auto passed = spawn(io, sleep_until_wall(std::chrono::system_clock::now() + 1ms, cancel));
  run_until_done(io, passed);
  EXPECT_TRUE(*passed->value);
  auto cut = spawn(io, sleep_until_wall(std::chrono::system_clock::now() + 1h, cancel));
  poll(io);
  cancel.set();
  poll(io);
  ASSERT_TRUE(cut->done);
  EXPECT_FALSE(*cut->value);
}

}  // namespace
