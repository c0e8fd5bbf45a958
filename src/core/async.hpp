#pragma once
// The coroutine synchronisation primitives of the library (in the spirit of Seastar's
// core/{gate,semaphore,condition-variable}.hh): an Event, a Condition, a Gate that drains
// its holders, a FIFO AsyncMutex and a sleep that a cancel Event cuts short.
//
// Loop thread only: a primitive and every coroutine that waits on it run on one
// single-threaded loop (no locks). A waiter parks on a timer of its own, on the executor of
// the waiting coroutine, and is resumed there. Every wait also ends when the waiting
// coroutine is cancelled through its Asio cancellation slot (a `||`, a cancelled
// `co_spawn`: "the stop is requested"), and when the primitive is destroyed meanwhile.

#include <tomodachi/error.hpp>
#include <tomodachi/task.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace tomodachi::core {

namespace detail {

class WaiterQueue;

/// A coroutine parked on a primitive: a node of the primitive's FIFO queue that lives in
/// the waiting coroutine's frame and unlinks itself when that frame lets go of it.
class Waiter {
 public:
  enum class State { waiting, notified, abandoned };

  Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  State state() const noexcept { return state_; }

 protected:
  ~Waiter();
  /// Resumes the parked coroutine soon (on its executor); never inline.
  virtual void resume() noexcept = 0;

 private:
  friend class WaiterQueue;
  WaiterQueue* queue_ = nullptr;
  Waiter* prev_ = nullptr;
  Waiter* next_ = nullptr;
  State state_ = State::waiting;
};

/// The waiters of one primitive, in arrival order.
class WaiterQueue {
 public:
  WaiterQueue() = default;
  WaiterQueue(const WaiterQueue&) = delete;
  WaiterQueue& operator=(const WaiterQueue&) = delete;
  /// Every waiter still parked resumes as `abandoned` (it must not touch the primitive).
  ~WaiterQueue();

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }

  void push_back(Waiter& waiter) noexcept;
  void remove(Waiter& waiter) noexcept;
  /// Resumes the first waiter as `notified`; false when there is none.
  bool notify_one() noexcept;
  void notify_all() noexcept;
  /// Resumes every waiter as `abandoned`.
  void abandon_all() noexcept;

 private:
  void release(Waiter& waiter, Waiter::State state) noexcept;

  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  std::size_t size_ = 0;
};

/// Why a parked coroutine resumed.
enum class Wake {
  notified,   ///< the primitive resumed it
  timeout,    ///< the time given passed first
  cancelled,  ///< the waiting coroutine was cancelled
  abandoned,  ///< the primitive was destroyed
};

/// Parks the calling coroutine at the back of `queue` until one of `Wake` happens.
Task<Wake> park(WaiterQueue& queue, std::chrono::steady_clock::time_point until);
Task<Wake> park(WaiterQueue& queue, std::chrono::system_clock::time_point until);

}  // namespace detail

/// Thrown by `Gate::enter` on a closed gate and by `AsyncMutex::lock` on a closed (or
/// destroyed) mutex.
class Closed : public tomodachi::Error {
 public:
  explicit Closed(const char* what) : tomodachi::Error(what) {}
};

/// A flag coroutines wait for: `wait` returns at once while it is set, else when `set` is
/// called. `clear` makes later waits wait again.
class Event {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  using SystemTime = std::chrono::system_clock::time_point;

  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  /// Waiters still waiting return false.
  ~Event() = default;

  bool is_set() const noexcept { return set_; }
  /// Sets the flag and resumes every waiter.
  void set() noexcept;
  void clear() noexcept { set_ = false; }

  /// True once set; false when the wait was cancelled or the event destroyed.
  Task<bool> wait();
  /// As `wait`, and false when `timeout` passed first.
  Task<bool> wait_for(std::chrono::steady_clock::duration timeout);
  Task<bool> wait_until(SteadyTime deadline);
  Task<bool> wait_until(SystemTime deadline);

  /// How many coroutines wait.
  std::size_t waiters() const noexcept { return waiters_.size(); }

 private:
  template <typename Time>
  Task<bool> wait_until_time(Time deadline);

  friend Task<bool> sleep_until(SteadyTime, Event&);
  friend Task<bool> sleep_until(SystemTime, Event&);

  bool set_ = false;
  detail::WaiterQueue waiters_;
};

/// Wakes waiting coroutines on demand (a condition variable without a mutex: a waiter
/// checks its condition again after waking). `notify_one` wakes the longest waiting.
class Condition {
 public:
  Condition() = default;
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;
  /// Waiters still waiting return false.
  ~Condition() = default;

  void notify_one() noexcept { waiters_.notify_one(); }
  void notify_all() noexcept { waiters_.notify_all(); }

  /// True when notified; false when cancelled or the condition was destroyed.
  Task<bool> wait();
  /// As `wait`, and false when `deadline` came first.
  Task<bool> wait_until(std::chrono::steady_clock::time_point deadline);

  std::size_t waiters() const noexcept { return waiters_.size(); }

 private:
  detail::WaiterQueue waiters_;
};

/// Counts holders (running tasks, in-flight messages) and lets a coroutine wait until none
/// is left. `close` refuses new holders: `close()` then `co_await wait()` drains the gate.
/// (A `wait` without `close` returns the next time no holder is left.)
class Gate {
 public:
  /// One holder, left on destruction (or `leave`). Must not outlive its gate.
  class Holder {
   public:
    Holder() = default;
    explicit Holder(Gate& gate) noexcept : gate_(&gate) {}
    Holder(Holder&& other) noexcept : gate_(other.gate_) { other.gate_ = nullptr; }
    Holder& operator=(Holder&& other) noexcept;
    ~Holder() { leave(); }
    void leave() noexcept;
    explicit operator bool() const noexcept { return gate_ != nullptr; }

   private:
    Gate* gate_ = nullptr;
  };

  Gate() = default;
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;
  /// Waiters still waiting return false.
  ~Gate() = default;

  /// Admits one holder; throws `Closed` once the gate is closed.
  void enter();
  /// Admits one holder unless the gate is closed.
  bool try_enter() noexcept;
  /// One holder left; resumes the waiters when it was the last.
  void leave() noexcept;
  /// `enter` as an RAII holder.
  Holder hold();

  void close() noexcept { closed_ = true; }
  bool is_closed() const noexcept { return closed_; }
  std::size_t count() const noexcept { return count_; }

  /// True once no holder is left (at once when there is none; a holder that entered before
  /// the waiter resumed is waited for too); false when cancelled or the gate was destroyed.
  Task<bool> wait();
  /// As `wait`, and false when `deadline` came first.
  Task<bool> wait_until(std::chrono::steady_clock::time_point deadline);

 private:
  std::size_t count_ = 0;
  bool closed_ = false;
  detail::WaiterQueue waiters_;
};

/// A mutex for the coroutines of one loop. `lock` queues in arrival order and `unlock`
/// hands the mutex straight to the first waiter (no barging). `close` fails every waiter
/// and every later `lock` with `Closed` (the owner keeps its lock until it unlocks).
class AsyncMutex {
 public:
  /// Ownership of the mutex; unlocks on destruction (or `unlock`). Must not outlive it.
  class Lock {
   public:
    Lock() = default;
    Lock(Lock&& other) noexcept : mutex_(other.mutex_) { other.mutex_ = nullptr; }
    Lock& operator=(Lock&& other) noexcept;
    ~Lock() { unlock(); }
    void unlock() noexcept;
    /// Gives up ownership without unlocking (as std::unique_lock::release).
    AsyncMutex* release() noexcept { return std::exchange(mutex_, nullptr); }
    bool owns_lock() const noexcept { return mutex_ != nullptr; }
    explicit operator bool() const noexcept { return owns_lock(); }

   private:
    friend class AsyncMutex;
    explicit Lock(AsyncMutex& mutex) noexcept : mutex_(&mutex) {}
    AsyncMutex* mutex_ = nullptr;
  };

  AsyncMutex() = default;
  AsyncMutex(const AsyncMutex&) = delete;
  AsyncMutex& operator=(const AsyncMutex&) = delete;
  /// Waiters still queued fail with `Closed`.
  ~AsyncMutex() = default;

  /// Waits for the mutex. Throws `Closed` when closed (or destroyed) first, and
  /// `boost::system::system_error` (operation_aborted) when the waiting coroutine is
  /// cancelled; a waiter that fails leaves the queue.
  Task<Lock> lock();
  /// The mutex when it is free and open, else nothing.
  std::optional<Lock> try_lock() noexcept;

  void close() noexcept;
  bool is_closed() const noexcept { return closed_; }
  bool is_locked() const noexcept { return locked_; }
  std::size_t waiters() const noexcept { return waiters_.size(); }

 private:
  void unlock() noexcept;

  bool locked_ = false;
  bool closed_ = false;
  detail::WaiterQueue waiters_;
};

/// Sleeps for `duration`. True when it passed; false when it was cut short: `cancel` was
/// set (already set: at once) or the sleeping coroutine was cancelled.
Task<bool> sleep_for(std::chrono::steady_clock::duration duration, Event& cancel);
/// As `sleep_for`, until a steady or a wall-clock time (a system_clock time follows changes
/// of the wall clock as Asio's system_timer does).
Task<bool> sleep_until(std::chrono::steady_clock::time_point time, Event& cancel);
Task<bool> sleep_until(std::chrono::system_clock::time_point time, Event& cancel);

/// How a component waits out its delays (backoffs, retry waits), as `sleep_for`. Empty
/// means `sleep_for`; a test passes one on virtual time (it records the delay and returns at
/// once).
using SleepFunction =
    std::function<Task<bool>(std::chrono::steady_clock::duration duration, Event& cancel)>;

/// `sleep` when given, else `sleep_for`.
Task<bool> sleep_with(const SleepFunction& sleep, std::chrono::steady_clock::duration duration,
                      Event& cancel);

/// Runs `tasks` concurrently; returns each task's exception (null when it succeeded), in
/// task order. Cancelling the caller cancels the tasks.
Task<std::vector<std::exception_ptr>> when_all(std::vector<Task<void>> tasks);

}  // namespace tomodachi::core
