#pragma once
/// @file
/// Scheduled functions (Python's `@tomodachi.schedule` and its shorthands): member
/// functions that run on an interval, on a cron expression or at a time of day,
/// registered in the service constructor:
///
/// ```cpp
/// Reports() : Service("reports") {
///   schedule<&Reports::tick>(tomodachi::every(std::chrono::seconds(5)));
///   schedule<&Reports::nightly>(tomodachi::at("02:30", "Europe/Stockholm"));
///   schedule<&Reports::quarter>({.interval = "*/15 * * * *", .immediately = true});
///   heartbeat<&Reports::alive>();
/// }
/// ```
///
/// A scheduled function is `Task<void> f()` or `Task<void> f(const ScheduleInvocation&)`
/// (plain `void` functions are accepted too; they run on the loop). See docs/schedule.md.

#include <tomodachi/detail/assert.hpp>
#include <tomodachi/detail/bind_member.hpp>
#include <tomodachi/detail/handler_name.hpp>
#include <tomodachi/detail/handler_spec.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/service.hpp>
#include <tomodachi/task.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace tomodachi {

/// A schedule that cannot run: `Invalid interval`, `Invalid timestamp`,
/// `Unknown timezone: <tz>` or `Invalid cron notation`, each naming the offending value.
/// Thrown at registration; the service does not start (exit code 1). Derives from
/// `tomodachi::Error` (before 0.2: `std::invalid_argument`).
class ScheduleError : public Error {
 public:
  using Error::Error;
};

/// Python's `interval` argument: whole seconds, or text. Text is case-insensitive and is
/// `"<n> seconds"` / `"<n>s"`, an alias (`"minutely"`, `"every hour"`, `"daily"`,
/// `"every monday"`, `"weekdays"`, ... spec/schedule.md §2) or a cron expression
/// (`"*/5 * * * *"`, `"@hourly"`). A number in a string (`"10"`) is cron (minute 10).
class ScheduleInterval {
 public:
  // Implicit on purpose: `.interval = 5`, `.interval = 5min` and `.interval = "hourly"`
  // read like Python's keyword argument.
  template <typename Integer>
  requires(std::is_integral_v<Integer> && !std::is_same_v<Integer, bool>)
      ScheduleInterval(Integer seconds)
      : value_(static_cast<std::int64_t>(seconds)) {}
  template <typename Rep, typename Period>
  requires std::is_convertible_v<std::chrono::duration<Rep, Period>, std::chrono::seconds>
  ScheduleInterval(std::chrono::duration<Rep, Period> period)
      : value_(std::chrono::seconds(period).count()) {}
  ScheduleInterval(std::string text) : value_(std::move(text)) {}
  ScheduleInterval(const char* text) : value_(std::string(text)) {}
  ScheduleInterval(std::string_view text) : value_(std::string(text)) {}

  bool is_seconds() const noexcept { return std::holds_alternative<std::int64_t>(value_); }
  /// The seconds; only when `is_seconds()`.
  std::int64_t seconds() const {
    TOMODACHI_ASSERT(is_seconds(), "ScheduleInterval::seconds() of a text interval");
    return std::get<std::int64_t>(value_);
  }
  /// The text; only when not `is_seconds()`.
  const std::string& text() const {
    TOMODACHI_ASSERT(!is_seconds(), "ScheduleInterval::text() of a seconds interval");
    return std::get<std::string>(value_);
  }
  /// As given: `"5"` for 5 seconds, else the text (the handler's `interval` value).
  std::string to_string() const;

 private:
  std::variant<std::int64_t, std::string> value_;
};

/// When a function runs: Python's `schedule(interval=None, timestamp=None,
/// timezone=None, immediately=False)`. Prefer the helpers `every`, `cron`, `at`.
struct ScheduleSpec {
  /// Wins over `timestamp` when both are set. With neither, the function never runs
  /// on schedule (only once at start with `immediately`).
  std::optional<ScheduleInterval> interval;
  /// `"HH:MM"` or `"HH:MM:SS"`: every day at that time; `"YYYY-MM-DD HH:MM"` or
  /// `"YYYY-MM-DD HH:MM:SS"`: once.
  std::optional<std::string> timestamp;
  /// Wall clock of cron and timestamp schedules: an IANA name (`"Europe/Stockholm"`) or
  /// an offset alias (`"GMT +01:00"`, `"-0500"`). Unset: the local zone (`TZ`, else
  /// /etc/localtime, else UTC). Integer intervals ignore it.
  std::optional<std::string> timezone;
  /// Also run once right after `started_service`, before the first due time.
  bool immediately = false;

  /// This schedule, also running once at start: `every(5s).run_immediately()`.
  ScheduleSpec run_immediately() const {
    ScheduleSpec copy = *this;
    copy.immediately = true;
    return copy;
  }
};

/// Every `period` counted from the service start (not aligned to the wall clock):
/// `interval=<seconds>`. The k-th run is due at start + k·period.
ScheduleSpec every(std::chrono::seconds period);

/// A cron expression (5 or 6 fields, names, ranges, steps, `L`, `L<weekday>`, `@hourly`
/// ...) on the wall clock of `timezone` (default: the local zone).
ScheduleSpec cron(std::string expression, std::optional<std::string> timezone = std::nullopt);

/// A time of day (`"08:00"`, `"08:00:30"`) or one date and time (`"2030-01-01 08:00"`)
/// on the wall clock of `timezone` (default: the local zone).
ScheduleSpec at(std::string timestamp, std::optional<std::string> timezone = std::nullopt);

/// What a scheduled function may ask for (Python's `invocation_time` and `interval`
/// arguments). Valid until the invocation finishes.
struct ScheduleInvocation {
  /// The due time that triggered this run (the start time for `immediately`).
  std::chrono::system_clock::time_point invocation_time;
  /// The registration's interval as given; unset for timestamp schedules.
  std::optional<ScheduleInterval> interval;
  /// Logger `tomodachi.schedule.handler` bound to `handler=<name>`,
  /// `type="tomodachi.schedule"` (the handler context of Python's logger).
  Logger logger;

  /// `invocation_time` as ISO 8601 UTC with second precision, e.g. `2023-08-13T17:44:09Z`.
  std::string invocation_time_iso() const;
};

/// The registration of one scheduled function (transport kind `"schedule"`).
struct ScheduleHandlerSpec : HandlerSpec {
  /// The transport's identity: `HandlerSpec::transport` of its registrations.
  static constexpr std::string_view kind = "schedule";
  using Invoke = std::function<Task<void>(const ScheduleInvocation&)>;

  ScheduleHandlerSpec(std::string handler_name, ScheduleSpec schedule_when, Invoke invoke_fn,
                      std::string qualified_handler_name = {})
      : HandlerSpec(std::string(kind), std::move(handler_name)),
        when(std::move(schedule_when)),
        invoke(std::move(invoke_fn)),
        qualified_name(qualified_handler_name.empty() ? name : std::move(qualified_handler_name)) {}

  ScheduleSpec when;
  /// Starts one run; the returned task is the run.
  Invoke invoke;
  /// `Class.function` (Python's `__qualname__`), for the names of running tasks.
  std::string qualified_name;
};

namespace detail {

/// Throws ScheduleError when `when` cannot run (bad interval, timestamp, cron or zone).
void validate_schedule(const ScheduleSpec& when);

/// `Class.member` for `&ns::Class::member`, like Python's `__qualname__`.
template <auto Fn>
std::string qualified_handler_name() {
  constexpr std::string_view class_name = class_name_from_signature(signature_of<Fn>());
  return std::string(class_name) + "." + std::string(handler_name<Fn>());
}

template <auto>
inline constexpr bool unsupported_scheduled_function = false;

template <auto Fn, typename Class>
Task<void> run_plain_member(Class* self, const ScheduleInvocation* invocation) {
  if constexpr (std::is_invocable_v<decltype(Fn), Class*, const ScheduleInvocation&>) {
    (self->*Fn)(*invocation);
  } else {
    (self->*Fn)();
  }
  co_return;
}

/// Adapts member `Fn` of the service's class to `ScheduleHandlerSpec::Invoke`.
template <auto Fn>
ScheduleHandlerSpec::Invoke bind_scheduled_member(Service& service) {
  auto call = bind_member<Fn>(service);
  using Call = decltype(call);
  if constexpr (std::is_invocable_r_v<Task<void>, Call&, const ScheduleInvocation&>) {
    return call;
  } else if constexpr (std::is_invocable_r_v<Task<void>, Call&>) {
    return [call](const ScheduleInvocation&) mutable { return call(); };
  } else if constexpr (std::is_invocable_v<Call&, const ScheduleInvocation&> ||
                       std::is_invocable_v<Call&>) {
    auto* self = &member_owner<Fn>(service);
    return [self](const ScheduleInvocation& invocation) {
      return run_plain_member<Fn>(self, &invocation);
    };
  } else {
    static_assert(unsupported_scheduled_function<Fn>,
                  "tomodachi: a scheduled function is Task<void> f() or "
                  "Task<void> f(const ScheduleInvocation&)");
  }
}

/// Adapts a callable taking `()` or `(const ScheduleInvocation&)` and returning `Task<void>`.
template <typename Handler>
ScheduleHandlerSpec::Invoke bind_scheduled_callable(Handler&& handler) {
  using Callable = std::decay_t<Handler>;
  static_assert(std::is_invocable_r_v<Task<void>, Callable&, const ScheduleInvocation&> ||
                    std::is_invocable_r_v<Task<void>, Callable&>,
                "tomodachi: a scheduled callable returns Task<void> and takes () or "
                "(const ScheduleInvocation&)");
  if constexpr (std::is_invocable_r_v<Task<void>, Callable&, const ScheduleInvocation&>) {
    return std::forward<Handler>(handler);
  } else {
    return [callable = Callable(std::forward<Handler>(handler))](
               const ScheduleInvocation&) mutable { return callable(); };
  }
}

}  // namespace detail

template <auto Fn>
void Service::schedule(const ScheduleSpec& when) {
  detail::validate_schedule(when);
  add_handler(std::make_unique<ScheduleHandlerSpec>(std::string(detail::handler_name<Fn>()), when,
                                                    detail::bind_scheduled_member<Fn>(*this),
                                                    detail::qualified_handler_name<Fn>()));
}

template <typename Handler>
void Service::schedule(const ScheduleSpec& when, std::string name, Handler&& handler) {
  detail::validate_schedule(when);
  add_handler(std::make_unique<ScheduleHandlerSpec>(
      std::move(name), when, detail::bind_scheduled_callable(std::forward<Handler>(handler))));
}

template <auto Fn>
void Service::heartbeat() {
  schedule<Fn>({.interval = 1});
}

template <auto Fn>
void Service::every_second() {
  schedule<Fn>({.interval = 1});
}

template <auto Fn>
void Service::minutely() {
  schedule<Fn>({.interval = "minutely"});
}

template <auto Fn>
void Service::hourly() {
  schedule<Fn>({.interval = "hourly"});
}

template <auto Fn>
void Service::daily() {
  schedule<Fn>({.interval = "daily"});
}

template <auto Fn>
void Service::monthly() {
  schedule<Fn>({.interval = "monthly"});
}

}  // namespace tomodachi
