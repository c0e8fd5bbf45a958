#pragma once
/// @file
/// Tracing for handler code: the current span, child spans, attributes, events.
/// Everything here is a no-op (and allocates nothing) while OpenTelemetry
/// instrumentation is off; see docs/observability.md.

#include <tomodachi/task.hpp>

#include <array>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace tomodachi::trace {

/// An attribute value, as OTLP's AnyValue (strings, bool, int64, double, string arrays).
using AttributeValue =
    std::variant<std::string, bool, std::int64_t, double, std::vector<std::string>>;
using Attributes = std::vector<std::pair<std::string, AttributeValue>>;

enum class SpanKind : int { internal = 1, server = 2, client = 3, producer = 4, consumer = 5 };
enum class StatusCode : int { unset = 0, ok = 1, error = 2 };

using TraceId = std::array<std::uint8_t, 16>;
using SpanId = std::array<std::uint8_t, 8>;

namespace detail {
struct SpanState;
}

/// A handle on a span (cheap to copy). A default-constructed Span is invalid and every
/// call on it does nothing. A recording span is exported when `end()` is called, or when
/// the last handle goes away without it.
class Span {
 public:
  Span() = default;
  explicit Span(std::shared_ptr<detail::SpanState> state) : state_(std::move(state)) {}

  /// True for a span with a valid trace and span id (sampled or not).
  bool valid() const noexcept;
  /// True when attributes and events are kept (a sampled span that has not ended).
  bool is_recording() const noexcept;

  TraceId trace_id() const noexcept;
  SpanId span_id() const noexcept;
  /// 32 / 16 lowercase hex characters ("" for an invalid span).
  std::string trace_id_hex() const;
  std::string span_id_hex() const;
  /// The parent's span id as 16 hex characters, "" for a root span.
  std::string parent_span_id_hex() const;

  void set_attribute(std::string key, AttributeValue value);
  void add_event(std::string name, Attributes attributes = {});
  /// An `exception` event with exception.type, exception.message, exception.stacktrace
  /// (and exception.escaped), as upstream's middleware records them.
  void record_exception(std::exception_ptr error, bool escaped = false);
  void set_status(StatusCode code, std::string description = {});
  void update_name(std::string name);
  /// Ends the span (the first call only) and hands it to the exporter.
  void end();

  const std::shared_ptr<detail::SpanState>& state() const noexcept { return state_; }

 private:
  std::shared_ptr<detail::SpanState> state_;
};

/// The span current in this coroutine chain (invalid when none or when tracing is off).
Span current_span();

/// Starts a span, a child of `current_span()` (a root when there is none).
/// Returns an invalid span when tracing is off.
Span start_span(std::string name, SpanKind kind = SpanKind::internal, Attributes attributes = {});

/// Makes `span` current until destruction (restores the previous one). Keep a Scope on
/// the stack of one coroutine: the current span belongs to the chain run by `run_in_span`.
class Scope {
 public:
  explicit Scope(Span span);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Span previous_;
  void* slot_ = nullptr;
};

namespace detail {
Task<void> run_in_span_erased(Span span, Task<void> task);
}

/// Runs `task` (and every coroutine it awaits or spawns on its executor) with `span`
/// current across suspensions: other coroutines interleaving on the loop see theirs.
template <typename T>
Task<T> run_in_span(Span span, Task<T> task) {
  if constexpr (std::is_void_v<T>) {
    co_await detail::run_in_span_erased(std::move(span), std::move(task));
  } else {
    std::optional<T> result;
    auto wrapper = [](Task<T> inner, std::optional<T>& out) -> Task<void> {
      out.emplace(co_await std::move(inner));
    };
    Task<void> erased = wrapper(std::move(task), result);
    co_await detail::run_in_span_erased(std::move(span), std::move(erased));
    co_return std::move(*result);
  }
}

}  // namespace tomodachi::trace
