// Consumer/schedule handler spans and producer spans for the transports (upstream's
// middleware.py and instrumentation.py).
#include "telemetry/handler_span.hpp"

#include "telemetry/instrument.hpp"

#include <tomodachi/logging.hpp>

#include <chrono>
#include <exception>

namespace tomodachi::telemetry {

Task<void> run_handler_span(HandlerSpanSpec spec, Task<void> handler) {
  const Tracer* t = tracer();
  if (t == nullptr) {
    co_await std::move(handler);
    co_return;
  }
  const auto started = std::chrono::steady_clock::now();
  trace::Span span = t->start_span(std::move(spec.name), spec.kind, spec.attributes,
                                   spec.remote_parent, spec.mode);
  MetricsRegistry* registry = spec.registry != nullptr ? spec.registry : metrics();
  if (registry && !spec.active_instrument.empty())
    registry->add(spec.active_instrument, 1, spec.attributes);
  std::exception_ptr error;
  try {
    auto in_span = with_span(span, std::move(handler));
    co_await std::move(in_span);
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    span.set_status(trace::StatusCode::error);
    span.record_exception(error, true);
  } else {
    span.set_status(trace::StatusCode::ok);
  }
  if (registry) {
    if (!spec.active_instrument.empty()) registry->add(spec.active_instrument, -1, spec.attributes);
    if (!spec.duration_instrument.empty()) {
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
      registry->record(spec.duration_instrument, elapsed.count(), spec.attributes,
                       {{"function.success", error == nullptr}}, &span);
    }
  }
  span.end();
  if (error) std::rethrow_exception(error);
}

bool instrumenting() noexcept { return instrumentation_requested() || tracer() != nullptr; }

void end_producer_span(trace::Span& span, const std::exception_ptr& error) {
  if (error) {
    // opentelemetry-python's use_span: the event (not escaped), then "{type}: {message}".
    span.record_exception(error, false);
    std::string type = exception_type_name(error);
    if (const auto colon = type.rfind("::"); colon != std::string::npos)
      type = type.substr(colon + 2);
    span.set_status(trace::StatusCode::error, type + ": " + describe_exception(error));
  } else {
    span.set_status(trace::StatusCode::ok);
  }
  span.end();
}

trace::Span start_producer_span(std::string name, trace::Attributes attributes) {
  const Tracer* t = tracer();
  if (t == nullptr) return {};
  return t->start_span(std::move(name), trace::SpanKind::producer, std::move(attributes));
}

KeyValues inject(const trace::Span& span) {
  KeyValues carrier;
  if (!span.valid()) return carrier;
  const SpanContext context = context_of(span);
  carrier.emplace_back("traceparent", format_traceparent(context));
  if (!context.trace_state.empty()) carrier.emplace_back("tracestate", context.trace_state);
  return carrier;
}

}  // namespace tomodachi::telemetry
