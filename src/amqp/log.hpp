#pragma once
// The logger of the AMQP connection's parts (upstream's name).

#include <tomodachi/logging.hpp>

namespace tomodachi::amqp_impl {

inline const Logger& log() {
  static const Logger logger("tomodachi.amqp");
  return logger;
}

}  // namespace tomodachi::amqp_impl
