#pragma once
/// @file
/// Delivery policies: what happens to a received AMQP or SNS/SQS message after its
/// handler ran, decided per subscription, the same for both transports.
///
/// * `DeliveryPolicy::at_least_once()` (the default): success → ack/delete; a handler
///   exception → the message is delivered again after an exponential backoff, up to
///   `max_attempts` deliveries, then dead-lettered with the error logged; a payload the
///   envelope cannot parse is dead-lettered at once. Nothing is dropped silently.
/// * `DeliveryPolicy::tomodachi()`: exactly Python tomodachi's rules — ack/delete on
///   success and on ordinary exceptions (the error is logged and the message dropped),
///   requeue (AMQP) / keep for redelivery (SQS) only when the handler throws
///   `AmqpInternalServiceError` / `AwsSnsSqsInternalServiceError`; unparseable payloads
///   are logged and dropped.
///
/// Dead-lettering is done by the client: the original payload is published to the
/// dead-letter queue (default per transport: AMQP `<queue>.dlq`; SNS/SQS `<queue>-dlq`,
/// `<queue>-dlq.fifo` for FIFO queues, as SQS names allow no dots; prefixes applied,
/// created on first use) with the error, attempt count and source queue attached, and
/// only then is the original acked/deleted. No queue arguments or redrive policies are
/// added to the user's queues.
///
/// The contract a transport implements for one received message (`Delivery`) is in
/// <tomodachi/transport/delivery.hpp>.

#include <tomodachi/error.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tomodachi {

/// Base of the exceptions that make the `tomodachi` policy requeue a message instead of
/// dropping it. Under `at_least_once` they are retried like any other exception.
class InternalServiceError : public Error {
 public:
  explicit InternalServiceError(const std::string& what = "internal service error") : Error(what) {}
  ~InternalServiceError() override;  // key function: one type identity across shared objects
};

/// AMQP handlers: throw to have the message nacked with requeue (Python
/// `AmqpInternalServiceError`).
class AmqpInternalServiceError : public InternalServiceError {
 public:
  using InternalServiceError::InternalServiceError;
  ~AmqpInternalServiceError() override;
};
/// Upstream's aliases of AmqpInternalServiceError.
class AmqpInternalServiceErrorException : public AmqpInternalServiceError {
 public:
  using AmqpInternalServiceError::AmqpInternalServiceError;
  ~AmqpInternalServiceErrorException() override;
};
class AmqpInternalServiceException : public AmqpInternalServiceError {
 public:
  using AmqpInternalServiceError::AmqpInternalServiceError;
  ~AmqpInternalServiceException() override;
};

/// SNS/SQS handlers: throw to keep the message in the queue (Python
/// `AWSSNSSQSInternalServiceError`).
class AwsSnsSqsInternalServiceError : public InternalServiceError {
 public:
  using InternalServiceError::InternalServiceError;
  ~AwsSnsSqsInternalServiceError() override;
};
/// Upstream's aliases of AwsSnsSqsInternalServiceError.
class AwsSnsSqsInternalServiceErrorException : public AwsSnsSqsInternalServiceError {
 public:
  using AwsSnsSqsInternalServiceError::AwsSnsSqsInternalServiceError;
  ~AwsSnsSqsInternalServiceErrorException() override;
};
class AwsSnsSqsInternalServiceException : public AwsSnsSqsInternalServiceError {
 public:
  using AwsSnsSqsInternalServiceError::AwsSnsSqsInternalServiceError;
  ~AwsSnsSqsInternalServiceException() override;
};

/// How one subscription settles its messages.
struct DeliveryPolicy {
  enum class Mode {
    at_least_once,  ///< retry with backoff, then dead-letter (default)
    tomodachi,      ///< Python tomodachi's outcome rules
  };

  Mode mode = Mode::at_least_once;
  /// Deliveries of one message before it is dead-lettered (at_least_once; >= 1).
  int max_attempts = 3;
  /// Delay before the 2nd delivery; each further delay is `backoff_multiplier` times longer.
  std::chrono::milliseconds initial_backoff{1000};
  double backoff_multiplier = 2.0;
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};
  /// Dead-letter queue name, unprefixed; unset = `default_dead_letter_queue(source queue,
  /// transport)`: AMQP `<queue>.dlq`, SNS/SQS `<queue>-dlq`.
  std::optional<std::string> dead_letter_queue;

  static DeliveryPolicy at_least_once() { return {}; }
  static DeliveryPolicy tomodachi() {
    DeliveryPolicy policy;
    policy.mode = Mode::tomodachi;
    return policy;
  }

  /// Delay before the delivery after failed attempt `attempt` (1-based).
  std::chrono::milliseconds retry_delay(int attempt) const;

  /// Throws tomodachi::ArgumentError naming a bad value (max_attempts < 1, negative delays, ...).
  void validate() const;
};

/// The AMQP dead-letter queue default for `source_queue`: `source_queue + ".dlq"` (RabbitMQ
/// has no FIFO naming rule: `x.fifo` → `x.fifo.dlq`).
std::string default_dead_letter_queue(std::string_view source_queue);
/// The dead-letter queue default of `transport` for `source_queue`: AMQP (and other
/// kinds) `<queue>.dlq`; `aws_sns_sqs` `<queue>-dlq` (`orders.fifo` → `orders-dlq.fifo`).
std::string default_dead_letter_queue(std::string_view source_queue, std::string_view transport);

/// AMQP: the header carrying the attempt number of a redelivered copy (`retry_later`
/// republishes with it; a message without it is attempt 1).
inline constexpr std::string_view attempt_header = "x-tomodachi-attempt";

/// Names of the headers (AMQP) / message attributes (SQS) a dead-lettered message carries.
namespace dead_letter_header {
inline constexpr std::string_view error = "x-tomodachi-error";            ///< error text
inline constexpr std::string_view error_type = "x-tomodachi-error-type";  ///< exception type
inline constexpr std::string_view attempts = "x-tomodachi-attempts";      ///< deliveries made
inline constexpr std::string_view source_queue = "x-tomodachi-source-queue";
inline constexpr std::string_view handler = "x-tomodachi-handler";
}  // namespace dead_letter_header

}  // namespace tomodachi
