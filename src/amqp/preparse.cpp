#include "amqp/preparse.hpp"

#include <typeinfo>

namespace tomodachi::rabbitmq {
namespace {
thread_local Preparsed* offered = nullptr;
}  // namespace

bool preparsable(const std::shared_ptr<const Envelope>& envelope) noexcept {
  return envelope && typeid(*envelope) == typeid(JsonBase);
}

std::shared_ptr<Preparsed> preparse(const Envelope& envelope, std::string_view body) {
  auto result = std::make_shared<Preparsed>();
  try {
    result->parsed = envelope.parse(body, nullptr);
  } catch (...) {
    result->error = std::current_exception();
  }
  return result;
}

PreparsedScope::PreparsedScope(Preparsed* preparsed) noexcept : mine_(preparsed) { offered = preparsed; }

PreparsedScope::~PreparsedScope() {
  if (offered == mine_) offered = nullptr;
}

ParsedMessage PreparsedEnvelope::parse(std::string_view payload, const MessageAttributes* message_attributes) const {
  if (Preparsed* candidate = offered; candidate && !candidate->taken && candidate->payload == payload) {
    candidate->taken = true;
    offered = nullptr;
    if (candidate->error) std::rethrow_exception(candidate->error);
    return std::move(candidate->parsed);
  }
  return inner_->parse(payload, message_attributes);
}

}  // namespace tomodachi::rabbitmq
