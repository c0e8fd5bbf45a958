#pragma once
// Envelope parsing off the service loop: the consumer connection's I/O thread parses JsonBase
// payloads as it assembles deliveries, and the subscription's envelope hands that result to
// the messaging core when it parses the same payload on the loop. JsonBase is immutable and
// pure, so parsing it on another thread is safe; other envelopes (user code, validators
// that log) are always parsed on the loop.
//
// This is an adapter until the messaging core accepts a parsed payload with a delivery
// (`IncomingMessage` has no field for it yet); correctness never depends on it — a payload
// that does not match falls back to parsing on the loop.

#include <tomodachi/envelope.hpp>

#include <exception>
#include <memory>
#include <string_view>

namespace tomodachi::rabbitmq {

/// A payload parsed on the I/O thread.
struct Preparsed {
  ParsedMessage parsed;
  std::exception_ptr error;
  std::string_view payload;  ///< set on the loop: the body the delivery keeps
  bool taken = false;
};

/// True for the envelopes that may be parsed on the I/O thread (JsonBase).
bool preparsable(const std::shared_ptr<const Envelope>& envelope) noexcept;

/// Parses `body` with `envelope` (on the I/O thread).
std::shared_ptr<Preparsed> preparse(const Envelope& envelope, std::string_view body);

/// Offers `preparsed` to the next PreparsedEnvelope parse on this thread, until it is taken,
/// another one is offered, or this guard ends (the offer never outlives its guard).
class PreparsedScope {
 public:
  explicit PreparsedScope(Preparsed* preparsed) noexcept;
  ~PreparsedScope();
  PreparsedScope(const PreparsedScope&) = delete;
  PreparsedScope& operator=(const PreparsedScope&) = delete;

 private:
  Preparsed* mine_;
};

/// Wraps a subscription's envelope: `parse` returns the offered result when the payload is
/// the offered one, and parses itself otherwise; everything else is the wrapped envelope's.
class PreparsedEnvelope final : public Envelope {
 public:
  explicit PreparsedEnvelope(std::shared_ptr<const Envelope> inner) : inner_(std::move(inner)) {}
  std::string_view name() const noexcept override { return inner_->name(); }
  void validate() const override { inner_->validate(); }
  std::string build(const PublishData& data, const BuildContext& context) const override {
    return inner_->build(data, context);
  }
  ParsedMessage parse(std::string_view payload, const MessageAttributes* message_attributes) const override;
  const std::shared_ptr<const Envelope>& inner() const noexcept { return inner_; }

 private:
  std::shared_ptr<const Envelope> inner_;
};

}  // namespace tomodachi::rabbitmq
