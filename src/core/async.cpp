#include "core/async.hpp"
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <cassert>
#include <utility>

namespace tomodachi::core {
namespace detail {
namespace {

namespace asio = boost::asio;

/// A waiter whose parked coroutine waits on `timer`: cancelling the timer resumes it.
template <typename Timer>
class TimerWaiter final : public Waiter {
 public:
  explicit TimerWaiter(Timer& timer) : timer_(timer) {}
  ~TimerWaiter() = default;

 private:
  void resume() noexcept override { timer_.cancel(); }
  Timer& timer_;
};

template <typename Clock>
Task<Wake> park_until(WaiterQueue& queue, typename Clock::time_point until) {
  auto executor = co_await asio::this_coro::executor;
  asio::basic_waitable_timer<Clock> timer(executor, until);
  TimerWaiter<asio::basic_waitable_timer<Clock>> waiter(timer);
  queue.push_back(waiter);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  // The state decides, not `ec`: a notification may come after the timer expired.
  switch (waiter.state()) {
    case Waiter::State::notified:
      co_return Wake::notified;
    case Waiter::State::abandoned:
      co_return Wake::abandoned;
    case Waiter::State::waiting:
      break;
  }
  co_return ec ? Wake::cancelled : Wake::timeout;  // the waiter leaves the queue here
}

}  // namespace

Waiter::~Waiter() {
  if (queue_) queue_->remove(*this);
}

WaiterQueue::~WaiterQueue() { abandon_all(); }

void WaiterQueue::abandon_all() noexcept {
  while (head_) release(*head_, Waiter::State::abandoned);
}

void WaiterQueue::push_back(Waiter& waiter) noexcept {
  assert(waiter.queue_ == nullptr);
  waiter.queue_ = this;
  waiter.prev_ = tail_;
  waiter.next_ = nullptr;
  if (tail_) {
    tail_->next_ = &waiter;
  } else {
    head_ = &waiter;
  }
  tail_ = &waiter;
  ++size_;
}

void WaiterQueue::remove(Waiter& waiter) noexcept {
  assert(waiter.queue_ == this);
  if (waiter.prev_) {
    waiter.prev_->next_ = waiter.next_;
  } else {
    head_ = waiter.next_;
  }
  if (waiter.next_) {
    waiter.next_->prev_ = waiter.prev_;
  } else {
    tail_ = waiter.prev_;
  }
  waiter.queue_ = nullptr;
  waiter.prev_ = waiter.next_ = nullptr;
  --size_;
}

void WaiterQueue::release(Waiter& waiter, Waiter::State state) noexcept {
  remove(waiter);
  waiter.state_ = state;
  waiter.resume();
}

bool WaiterQueue::notify_one() noexcept {
  if (!head_) return false;
  release(*head_, Waiter::State::notified);
  return true;
}

void WaiterQueue::notify_all() noexcept {
  while (head_) release(*head_, Waiter::State::notified);
}

Task<Wake> park(WaiterQueue& queue, std::chrono::steady_clock::time_point until) {
  return park_until<std::chrono::steady_clock>(queue, until);
}

Task<Wake> park(WaiterQueue& queue, std::chrono::system_clock::time_point until) {
  return park_until<std::chrono::system_clock>(queue, until);
}

}  // namespace detail

namespace {
constexpr auto forever = std::chrono::steady_clock::time_point::max();
}  // namespace

// ---- Event ------------------------------------------------------------------------------

void Event::set() noexcept {
  set_ = true;
  waiters_.notify_all();
}

Task<bool> Event::wait() { return wait_until_time(forever); }

Task<bool> Event::wait_for(std::chrono::steady_clock::duration timeout) {
  return wait_until_time(std::chrono::steady_clock::now() + timeout);
}

Task<bool> Event::wait_until(SteadyTime deadline) { return wait_until_time(deadline); }

Task<bool> Event::wait_until(SystemTime deadline) { return wait_until_time(deadline); }

template <typename Time>
Task<bool> Event::wait_until_time(Time deadline) {
  if (set_) co_return true;
  const detail::Wake wake = co_await detail::park(waiters_, deadline);
  co_return wake == detail::Wake::notified;  // (abandoned: `this` is gone)
}

// ---- Condition --------------------------------------------------------------------------

Task<bool> Condition::wait() { return wait_until(forever); }

Task<bool> Condition::wait_until(std::chrono::steady_clock::time_point deadline) {
  const detail::Wake wake = co_await detail::park(waiters_, deadline);
  co_return wake == detail::Wake::notified;
}

// ---- Gate -------------------------------------------------------------------------------

Gate::Holder& Gate::Holder::operator=(Holder&& other) noexcept {
  if (this != &other) {
    leave();
    gate_ = std::exchange(other.gate_, nullptr);
  }
  return *this;
}

void Gate::Holder::leave() noexcept {
  if (auto* gate = std::exchange(gate_, nullptr)) gate->leave();
}

void Gate::enter() {
  if (closed_) throw Closed("the gate is closed");
  ++count_;
}

bool Gate::try_enter() noexcept {
  if (closed_) return false;
  ++count_;
  return true;
}

void Gate::leave() noexcept {
  assert(count_ > 0);
  if (count_ > 0 && --count_ == 0) waiters_.notify_all();
}

Gate::Holder Gate::hold() {
  enter();
  return Holder(*this);
}

Task<bool> Gate::wait() { return wait_until(forever); }

Task<bool> Gate::wait_until(std::chrono::steady_clock::time_point deadline) {
  // Again after a wake-up: a holder may have entered before this waiter ran.
  while (count_ > 0) {
    const detail::Wake wake = co_await detail::park(waiters_, deadline);
    if (wake != detail::Wake::notified) co_return false;  // (abandoned: `this` is gone)
  }
  co_return true;
}

// ---- AsyncMutex -------------------------------------------------------------------------

AsyncMutex::Lock& AsyncMutex::Lock::operator=(Lock&& other) noexcept {
  if (this != &other) {
    unlock();
    mutex_ = std::exchange(other.mutex_, nullptr);
  }
  return *this;
}

void AsyncMutex::Lock::unlock() noexcept {
  if (auto* mutex = std::exchange(mutex_, nullptr)) mutex->unlock();
}

Task<AsyncMutex::Lock> AsyncMutex::lock() {
  if (closed_) throw Closed("the mutex is closed");
  if (!locked_) {
    locked_ = true;
    co_return Lock(*this);
  }
  const detail::Wake wake = co_await detail::park(waiters_, forever);
  switch (wake) {
    case detail::Wake::notified:
      co_return Lock(*this);  // handed over by `unlock`: still locked, ours now
    case detail::Wake::cancelled:
    case detail::Wake::timeout:
      throw boost::system::system_error(boost::asio::error::operation_aborted, "AsyncMutex::lock");
    case detail::Wake::abandoned:
      break;
  }
  throw Closed("the mutex is closed");
}

std::optional<AsyncMutex::Lock> AsyncMutex::try_lock() noexcept {
  if (closed_ || locked_) return std::nullopt;
  locked_ = true;
  return Lock(*this);
}

void AsyncMutex::close() noexcept {
  closed_ = true;
  waiters_.abandon_all();  // they fail with Closed, as on destruction
}

void AsyncMutex::unlock() noexcept {
  assert(locked_);
  if (!waiters_.notify_one()) locked_ = false;
}

// ---- sleeping ---------------------------------------------------------------------------

Task<bool> sleep_for(std::chrono::steady_clock::duration duration, Event& cancel) {
  return sleep_until(std::chrono::steady_clock::now() + duration, cancel);
}

Task<bool> sleep_until(std::chrono::steady_clock::time_point time, Event& cancel) {
  if (cancel.is_set()) co_return false;
  const detail::Wake wake = co_await detail::park(cancel.waiters_, time);
  co_return wake == detail::Wake::timeout;
}

Task<bool> sleep_with(const SleepFunction& sleep, std::chrono::steady_clock::duration duration,
                      Event& cancel) {
  if (!sleep) return sleep_for(duration, cancel);
  return sleep(duration, cancel);
}

Task<bool> sleep_until(std::chrono::system_clock::time_point time, Event& cancel) {
  if (cancel.is_set()) co_return false;
  const detail::Wake wake = co_await detail::park(cancel.waiters_, time);
  co_return wake == detail::Wake::timeout;
}

Task<std::vector<std::exception_ptr>> when_all(std::vector<Task<void>> tasks) {
  namespace asio = boost::asio;
  if (tasks.empty()) co_return std::vector<std::exception_ptr>{};
  auto executor = co_await asio::this_coro::executor;
  using Operation = decltype(asio::co_spawn(executor, std::declval<Task<void>>(), asio::deferred));
  std::vector<Operation> operations;
  operations.reserve(tasks.size());
  for (auto& task : tasks)
    operations.push_back(asio::co_spawn(executor, std::move(task), asio::deferred));
  auto group = asio::experimental::make_parallel_group(std::move(operations));
  auto [order, errors] =
      co_await group.async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  co_return std::move(errors);
}

}  // namespace tomodachi::core
