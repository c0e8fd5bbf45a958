#include "amqp/preparse.hpp"

#include <typeinfo>

namespace tomodachi::amqp_impl {

bool preparsable(const std::shared_ptr<const Envelope>& envelope) noexcept {
  return envelope && typeid(*envelope) == typeid(JsonBase);
}

std::shared_ptr<Preparsed> preparse(const Envelope& envelope, std::string_view body) {
  auto result = std::make_shared<Preparsed>();
  try {
    result->parsed.emplace(envelope.parse(body, nullptr));
  } catch (...) {
    result->error = std::current_exception();
  }
  return result;
}

}  // namespace tomodachi::amqp_impl
