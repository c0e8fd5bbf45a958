// Delivery policies (include/tomodachi/delivery.hpp).
#include <tomodachi/detail/assert.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/transport/delivery.hpp>

#include <cmath>
#include <stdexcept>

namespace tomodachi {

InternalServiceError::~InternalServiceError() = default;
Delivery::~Delivery() = default;
AmqpInternalServiceError::~AmqpInternalServiceError() = default;
AmqpInternalServiceErrorException::~AmqpInternalServiceErrorException() = default;
AmqpInternalServiceException::~AmqpInternalServiceException() = default;
AwsSnsSqsInternalServiceError::~AwsSnsSqsInternalServiceError() = default;
AwsSnsSqsInternalServiceErrorException::~AwsSnsSqsInternalServiceErrorException() = default;
AwsSnsSqsInternalServiceException::~AwsSnsSqsInternalServiceException() = default;

std::chrono::milliseconds DeliveryPolicy::retry_delay(int attempt) const {
  TOMODACHI_ASSERT(attempt >= 1, "DeliveryPolicy::retry_delay: attempts are 1-based");
  const double factor = std::pow(backoff_multiplier, std::max(0, attempt - 1));
  const double delay = static_cast<double>(initial_backoff.count()) * factor;
  const double cap = static_cast<double>(max_backoff.count());
  if (!std::isfinite(delay) || delay >= cap) return max_backoff;
  return std::chrono::milliseconds(static_cast<std::int64_t>(delay));
}

void DeliveryPolicy::validate() const {
  if (max_attempts < 1) {
    throw ArgumentError("delivery policy: max_attempts must be >= 1, got " +
                        std::to_string(max_attempts));
  }
  if (initial_backoff.count() < 0 || max_backoff.count() < 0) {
    throw ArgumentError("delivery policy: backoff delays must not be negative");
  }
  if (!(backoff_multiplier >= 1.0) || !std::isfinite(backoff_multiplier)) {
    throw ArgumentError("delivery policy: backoff_multiplier must be a finite number >= 1");
  }
  if (dead_letter_queue && dead_letter_queue->empty()) {
    throw ArgumentError(
        "delivery policy: dead_letter_queue must not be empty (leave it unset for the default)");
  }
}

namespace {
constexpr std::string_view fifo_suffix = ".fifo";
bool is_fifo(std::string_view queue) {
  return queue.size() > fifo_suffix.size() &&
         queue.substr(queue.size() - fifo_suffix.size()) == fifo_suffix;
}
}  // namespace

std::string default_dead_letter_queue(std::string_view source_queue) {
  return std::string(source_queue) + ".dlq";
}

std::string default_dead_letter_queue(std::string_view source_queue, std::string_view transport) {
  if (transport != "aws_sns_sqs") return default_dead_letter_queue(source_queue);
  if (is_fifo(source_queue)) {
    return std::string(source_queue.substr(0, source_queue.size() - fifo_suffix.size())) +
           "-dlq.fifo";
  }
  return std::string(source_queue) + "-dlq";
}

}  // namespace tomodachi
