#pragma once
// How the broker and rabbitmq-c report failures, as text for logs and exceptions.

#include <amqp.h>

#include <optional>
#include <string>

namespace tomodachi::amqp_impl {

/// A channel closed by the broker (channel.close): its reply code and text. Code 0: the
/// library's own error (no broker answer).
struct BrokerError {
  int code = 0;
  std::string text;
};

/// rabbitmq-c's text of a status code ("a socket error occurred", ...).
std::string describe_status(int status);

/// "ACCESS_REFUSED - Login was refused ..." or the library's error text.
std::string describe_reply(const amqp_rpc_reply_t& reply);

/// Text between the first pair of single quotes ("no exchange 'x' in vhost '/'" -> x).
std::optional<std::string> quoted_name(const std::string& text);

}  // namespace tomodachi::amqp_impl
