#pragma once
/// @file
/// For transport implementers: `Delivery`, the contract a transport implements for one
/// received message, through which the messaging core (<tomodachi/transport/messaging.hpp>)
/// settles it, and `DeadLetter`, what the core asks it to dead-letter. The policies
/// themselves are user-facing: <tomodachi/delivery.hpp>.

#include <tomodachi/delivery.hpp>
#include <tomodachi/task.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace tomodachi {

/// What the core asks a transport to dead-letter.
struct DeadLetter {
  std::string error;       ///< why (the exception text, or the parse error)
  std::string error_type;  ///< exception type name
  int attempts = 1;        ///< deliveries made, this one included
  std::string handler;     ///< handler name
  /// The subscription's `dead_letter_queue` (unprefixed), or unset for the default.
  std::optional<std::string> queue;
};

/// One received message, as the transport settles it. The messaging core calls exactly
/// one of the settling functions per delivery.
class Delivery {
 public:
  virtual ~Delivery();

  /// Delivery attempt of this message, 1-based (AMQP: from the retry header; SQS:
  /// `ApproximateReceiveCount`).
  virtual int attempt() const = 0;

  /// Done with it: AMQP `basic.ack` / SQS `DeleteMessage`.
  virtual Task<void> ack() = 0;

  /// Upstream's internal-service-error outcome: AMQP `basic.nack(requeue=true)` / SQS:
  /// leave it for redelivery after the visibility timeout.
  virtual Task<void> requeue() = 0;

  /// Deliver it again after `delay` as attempt `attempt() + 1`, then settle this copy
  /// (AMQP: republish to the same queue with the attempt header and ack; SQS:
  /// `ChangeMessageVisibility(delay)`).
  virtual Task<void> retry_later(std::chrono::milliseconds delay) = 0;

  /// Publish the original payload, with `letter` in the dead-letter headers/attributes
  /// (`dead_letter_header`), to the dead-letter queue (created on first use), then ack.
  virtual Task<void> dead_letter(const DeadLetter& letter) = 0;
};

}  // namespace tomodachi
