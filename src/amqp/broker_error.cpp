#include "amqp/broker_error.hpp"

#include "amqp/methods.hpp"

#include <amqp_framing.h>

namespace tomodachi::amqp_impl {

std::string describe_status(int status) { return amqp_error_string2(status); }

std::string describe_reply(const amqp_rpc_reply_t& reply) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return "ok";
    case AMQP_RESPONSE_NONE:
      return "no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return describe_status(reply.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* close = static_cast<const amqp_connection_close_t*>(reply.reply.decoded);
        return to_string(close->reply_text);
      }
      if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* close = static_cast<const amqp_channel_close_t*>(reply.reply.decoded);
        return to_string(close->reply_text);
      }
      return "unexpected method from the broker";
  }
  return "unknown error";
}

std::optional<std::string> quoted_name(const std::string& text) {
  const auto start = text.find('\'');
  if (start == std::string::npos) return std::nullopt;
  const auto end = text.find('\'', start + 1);
  if (end == std::string::npos) return std::nullopt;
  return text.substr(start + 1, end - start - 1);
}

}  // namespace tomodachi::amqp_impl
