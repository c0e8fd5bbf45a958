#pragma once
// OpenTelemetry of the SNS/SQS transport, as upstream's OpenTelemetryAWSSQSMiddleware and
// its traced _publish_message / _send_raw_message: a CONSUMER span "{topic} process"
// (" process" for a message sent straight to the queue) around a subscription's
// middleware and handler, its parent extracted from the message attributes (the SQS
// message's, else those in the SNS notification body: the consumer decodes either); and
// PRODUCER spans "{topic} publish" / "{queue} publish" whose context goes into the
// outgoing message attributes as String attributes, within SNS/SQS's 10 attributes.

#include <tomodachi/message_attributes.hpp>
#include <tomodachi/trace.hpp>
#include <tomodachi/transport/messaging.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace tomodachi::aws {

/// SNS Publish and SQS SendMessage take at most this many message attributes.
inline constexpr std::size_t max_message_attributes = 10;

/// The instrument of an SQS subscription of a service with `queue_name_prefix`; unset while
/// instrumentation is off.
MessageInstrument consumer_instrument(std::string queue_name_prefix);

/// The PRODUCER span of an SNS publish to `topic` (unprefixed, as upstream reads it from
/// the topic ARN), a child of the current span; invalid while tracing is off.
trace::Span start_publish_span(std::string topic);
/// The PRODUCER span of an SQS send to the queue at `queue_url` (its name without
/// `queue_name_prefix`); invalid while tracing is off.
trace::Span start_send_span(std::string_view queue_url, std::string_view queue_name_prefix);

/// Adds `span`'s `traceparent` (then `tracestate`, when the trace has one) to `attributes`
/// as String attributes, as upstream's propagator does, but only while the message keeps
/// within max_message_attributes: the user's (and the envelope's) attributes win, an entry
/// that does not fit is left out, and the first time that happens for `destination` one
/// warning is logged. Returns how many entries were left out.
std::size_t inject_attributes(const trace::Span& span, MessageAttributes& attributes,
                              std::string_view destination);

/// The name of the queue at `queue_url` (its last path segment) without
/// `queue_name_prefix`, as upstream's get_queue_name_without_prefix.
std::string queue_name_of_url(std::string_view queue_url, std::string_view queue_name_prefix);

}  // namespace tomodachi::aws
