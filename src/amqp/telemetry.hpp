#pragma once
// OpenTelemetry of the AMQP transport, as upstream's OpenTelemetryAMQPMiddleware and its
// traced AmqpTransport._publish_message: a CONSUMER span "{routing_key} process" around a
// subscription's middleware and handler (parent extracted from the `traceparent` /
// `tracestate` headers), and a PRODUCER span "{routing_key} publish" whose context goes
// into the outgoing message's headers as string values.

#include <tomodachi/amqp.hpp>
#include <tomodachi/trace.hpp>
#include <tomodachi/transport/messaging.hpp>

#include <string>
#include <string_view>

namespace tomodachi::amqp_impl {

/// The instrument of a subscription to `routing_key` (unprefixed, as registered) on
/// `exchange_name` ("" = `amq.topic`); unset while instrumentation is off.
MessageInstrument consumer_instrument(std::string routing_key, std::string exchange_name);

/// Starts the PRODUCER span of a publish with `routing_key` (unprefixed) to `exchange`, a
/// child of the current span, and adds its `traceparent` (and `tracestate`) to
/// `properties.headers`. An invalid span, and nothing added, while tracing is off.
trace::Span start_publish_span(std::string_view routing_key, std::string_view exchange,
                               AmqpProperties& properties);

}  // namespace tomodachi::amqp_impl
