#pragma once
// The hooks the message transports and the scheduler call, as upstream's
// OpenTelemetry{AMQP,AWSSQS,ScheduleFunction}Middleware and its traced _publish_message:
// a CONSUMER / INTERNAL span around one handler invocation with its duration and
// active-tasks instruments, and a PRODUCER span whose context is injected into the
// outgoing message. Callers check `telemetry::tracer() != nullptr` first (zero cost off).

#include "telemetry/metrics.hpp"
#include "telemetry/trace_context.hpp"
#include "telemetry/tracer.hpp"

#include <tomodachi/task.hpp>

#include <exception>
#include <optional>
#include <string>
#include <string_view>

namespace tomodachi::telemetry {

struct HandlerSpanSpec {
  std::string name;  ///< "{routing_key} process", "{topic} process", the function name
  trace::SpanKind kind = trace::SpanKind::consumer;
  trace::Attributes attributes;              ///< upstream's, in its order
  std::optional<SpanContext> remote_parent;  ///< extracted from the message
  ParentMode mode = ParentMode::current;     ///< ParentMode::root for schedules
  std::string_view duration_instrument;      ///< e.g. "messaging.rabbitmq.duration"
  std::string_view active_instrument;        ///< e.g. "messaging.rabbitmq.active_tasks"
  MetricsRegistry* registry = nullptr;       ///< nullptr: the process's (telemetry::metrics())
};

/// Runs `handler` with a span current: status OK on return; on an exception status ERROR,
/// an `exception` event (escaped) and the exception rethrown. Active tasks +1/-1 and the
/// duration histogram with `function.success`. Without a tracer: just runs `handler`.
Task<void> run_handler_span(HandlerSpanSpec spec, Task<void> handler);

/// Whether the transports instrument what they set up now: instrumentation was requested
/// (`--opentelemetry-instrument`) or a tracer is installed. False: they add nothing at all.
bool instrumenting() noexcept;

/// Starts a PRODUCER span ("{routing_key} publish", "{topic} publish", "{queue} publish")
/// as a child of the current span. Invalid span without a tracer.
trace::Span start_producer_span(std::string name, trace::Attributes attributes);

/// Ends a producer span as upstream's `start_as_current_span` block does: status OK, or
/// for `error` an `exception` event (not escaped) and status ERROR "{type}: {message}".
void end_producer_span(trace::Span& span, const std::exception_ptr& error);

/// The carrier entries to add to the outgoing message for `span`: `traceparent`, and
/// `tracestate` when the trace has one. Empty for an invalid span.
KeyValues inject(const trace::Span& span);

}  // namespace tomodachi::telemetry
