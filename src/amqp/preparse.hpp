#pragma once
// Envelope parsing off the service loop: the consumer connection's I/O thread parses JsonBase
// payloads as it assembles deliveries, and the transport hands the result to the messaging
// core with the delivery (`IncomingMessage::parsed` / `parse_error`). JsonBase is immutable
// and pure, so parsing it on another thread is safe; other envelopes (user code, validators
// that log) are always parsed on the loop.

#include <tomodachi/envelope.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <string_view>

namespace tomodachi::amqp_impl {

/// A payload parsed on the I/O thread: the envelope's result or what it threw.
struct Preparsed {
  std::optional<ParsedMessage> parsed;
  std::exception_ptr error;
};

/// True for the envelopes that may be parsed on the I/O thread (JsonBase).
bool preparsable(const std::shared_ptr<const Envelope>& envelope) noexcept;

/// Parses `body` with `envelope` (on the I/O thread).
std::shared_ptr<Preparsed> preparse(const Envelope& envelope, std::string_view body);

}  // namespace tomodachi::amqp_impl
