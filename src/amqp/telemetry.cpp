// The AMQP transport's spans and metrics (upstream's middleware.py
// OpenTelemetryAMQPMiddleware and instrumentation.py _traced_publish_amqp_message).
#include "amqp/telemetry.hpp"

#include "telemetry/handler_span.hpp"

#include <tomodachi/message.hpp>

#include <boost/json.hpp>

#include <optional>
#include <utility>

namespace tomodachi::amqp_impl {
namespace {

std::optional<std::string_view> header_string(const boost::json::object* headers,
                                              std::string_view key) {
  if (headers == nullptr) return std::nullopt;
  const auto* value = headers->if_contains(key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string_view(value->as_string());
}

// The parent a producer put into the message headers (none when absent or invalid).
std::optional<telemetry::SpanContext> extract_parent(const Message& message) {
  const auto& properties = message.properties();
  const boost::json::object* headers = nullptr;
  if (properties.is_object()) {
    if (const auto* value = properties.as_object().if_contains("headers");
        value && value->is_object())
      headers = &value->as_object();
  }
  return telemetry::extract(header_string(headers, "traceparent"),
                            header_string(headers, "tracestate"));
}

}  // namespace

MessageInstrument consumer_instrument(std::string routing_key, std::string exchange_name) {
  if (!telemetry::instrumenting()) return {};
  if (exchange_name.empty()) exchange_name = "amq.topic";
  return [routing_key = std::move(routing_key), exchange = std::move(exchange_name)](
             Message& message, Task<void> chain) -> Task<void> {
    if (telemetry::tracer() == nullptr) return chain;
    telemetry::HandlerSpanSpec spec;
    spec.name = routing_key + " process";
    spec.kind = trace::SpanKind::consumer;
    spec.attributes = {{"messaging.system", std::string("rabbitmq")},
                       {"messaging.operation", std::string("process")},
                       {"messaging.destination.name", exchange},
                       {"messaging.rabbitmq.destination.routing_key", routing_key},
                       {"code.function", message.handler_name()}};
    spec.remote_parent = extract_parent(message);
    spec.duration_instrument = "messaging.rabbitmq.duration";
    spec.active_instrument = "messaging.rabbitmq.active_tasks";
    return telemetry::run_handler_span(std::move(spec), std::move(chain));
  };
}

trace::Span start_publish_span(std::string_view routing_key, std::string_view exchange,
                               AmqpProperties& properties) {
  if (telemetry::tracer() == nullptr) return {};
  trace::Attributes attributes{
      {"messaging.system", std::string("rabbitmq")},
      {"messaging.operation", std::string("publish")},
      {"messaging.destination.name", std::string(exchange.empty() ? "amq.topic" : exchange)},
      {"messaging.rabbitmq.destination.routing_key", std::string(routing_key)}};
  trace::Span span =
      telemetry::start_producer_span(std::string(routing_key) + " publish", std::move(attributes));
  const telemetry::KeyValues carrier = telemetry::inject(span);
  if (!carrier.empty()) {
    if (!properties.headers) properties.headers.emplace();
    for (const auto& [key, value] : carrier) (*properties.headers)[key] = value;
  }
  return span;
}

}  // namespace tomodachi::amqp_impl
