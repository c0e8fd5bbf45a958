#pragma once
// The tracer the instrumentation starts spans with, and the process-wide installation.

#include "telemetry/config.hpp"
#include "telemetry/span_data.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <optional>

namespace tomodachi::telemetry {

class Sampler {
 public:
  explicit Sampler(SamplerConfig config = {}) : config_(config) {}
  /// The sampling decision for a new span of `trace_id` under `parent` (if valid).
  bool should_sample(const TraceId& trace_id, const SpanContext* parent) const noexcept;

 private:
  SamplerConfig config_;
};

/// Where a new span's parent comes from.
enum class ParentMode {
  current,  ///< the current span (trace::current_span())
  root,     ///< no parent (schedules)
};

class Tracer {
 public:
  Tracer(Sampler sampler, std::shared_ptr<SpanSink> sink);

  /// Starts a span. `remote_parent` (extracted from headers or message attributes) wins
  /// over `mode` when it is valid.
  trace::Span start_span(std::string name, SpanKind kind, Attributes attributes = {},
                         const std::optional<SpanContext>& remote_parent = std::nullopt,
                         ParentMode mode = ParentMode::current) const;

 private:
  Sampler sampler_;
  std::shared_ptr<SpanSink> sink_;
};

/// The installed tracer, or nullptr while tracing is off (the zero-cost check).
const Tracer* tracer() noexcept;
/// Installs (or with nullptr removes) the process's tracer.
void install_tracer(std::shared_ptr<const Tracer> tracer);

/// The span context of a span (for injection): invalid context for an invalid span.
SpanContext context_of(const trace::Span& span);

/// The log fields upstream's structlog processor adds while a valid span is current:
/// span_id, trace_id and, for a span with a parent, parent_span_id, each in Python's
/// hex(int) form ("0x" + unpadded lowercase hex). Empty without a valid current span.
std::vector<std::pair<std::string, std::string>> current_trace_log_fields();

/// An executor that runs every handler of a coroutine chain with its current-span slot
/// installed (how `trace::run_in_span` carries the current span across suspensions).
boost::asio::any_io_executor context_executor(boost::asio::any_io_executor inner, trace::Span span);

/// True while the running code belongs to a coroutine chain started on a
/// context_executor(): its current-span slot can then be set in place (ChainSpanScope).
bool in_context_chain() noexcept;

/// Makes `span` the current span of the running coroutine chain until destroyed, then the
/// previous one again: a request's span on a connection whose session was spawned on a
/// context_executor(), without the coroutine spawn of `trace::run_in_span` per request.
/// The chain must run one such scope at a time (a connection handles one request at once).
class ChainSpanScope {
 public:
  explicit ChainSpanScope(trace::Span span);
  ~ChainSpanScope();
  ChainSpanScope(const ChainSpanScope&) = delete;
  ChainSpanScope& operator=(const ChainSpanScope&) = delete;

 private:
  trace::Span previous_;
};

/// The executor to spawn one unit of traced work on (an HTTP connection, a delivery): with
/// a tracer, a context_executor() with a slot of its own, so `with_span` can set the span
/// in place; without, `executor` itself (zero cost off).
boost::asio::any_io_executor traced_executor(boost::asio::any_io_executor executor);

/// Awaits `task` with `span` current: set in the running chain's own slot when it has one
/// (a chain spawned on traced_executor()), else through `trace::run_in_span`'s spawn.
template <typename T>
Task<T> with_span(trace::Span span, Task<T> task) {
  if (!in_context_chain()) {
    auto spawned = trace::run_in_span(std::move(span), std::move(task));
    co_return co_await std::move(spawned);
  }
  const ChainSpanScope scope(std::move(span));
  co_return co_await std::move(task);
}

/// `executor` without the span slots of context_executor: for what outlives the handler
/// that happens to create it (a lazily opened connection, a client), so its work does not
/// run with that handler's span current.
boost::asio::any_io_executor without_context(boost::asio::any_io_executor executor);

}  // namespace tomodachi::telemetry
