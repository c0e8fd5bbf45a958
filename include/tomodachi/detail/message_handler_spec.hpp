#pragma once
/// @file
/// Registration plumbing: the transport-neutral part of an AMQP or SNS/SQS registration,
/// built by `Service::amqp` / `Service::aws_sns_sqs` and read by the transports and the
/// in-memory test broker.

#include <tomodachi/delivery.hpp>
#include <tomodachi/detail/handler_spec.hpp>
#include <tomodachi/envelope.hpp>
#include <tomodachi/message.hpp>

#include <optional>
#include <string>

namespace tomodachi {

/// The transport-neutral part of an AMQP or SNS/SQS registration. The transports'
/// specs derive from it; the in-memory transport subscribes any of them.
struct MessageHandlerSpec : HandlerSpec {
  using HandlerSpec::HandlerSpec;
  ~MessageHandlerSpec() override;

  /// Routing key (AMQP) or topic (SNS/SQS) as registered, unprefixed; may hold `*`/`#`.
  std::string pattern;
  /// The bound handler.
  MessageHandler handler;
  /// Envelope override (unset: the service's `message_envelope`).
  EnvelopeOverride message_envelope;
  /// How messages are settled.
  DeliveryPolicy delivery;
  /// Explicit queue name, unprefixed (unset: derived as upstream does).
  std::optional<std::string> queue_name;
  /// Competing consumers (unset: upstream's default for the transport).
  std::optional<bool> competing;
};

}  // namespace tomodachi
