#pragma once
/// @file
/// AMQP / RabbitMQ transport: `amqp<&Svc::handler>(routing_key, {...})` subscriptions and
/// `amqp_publish(service, data, routing_key, {...})`, wire-compatible with Python tomodachi
/// (spec/wire.md §2): same exchange, routing-key encoding, queue names and declarations.
/// Beyond upstream: publisher confirms, persistent messages on request, reconnect with
/// re-declaration, graceful drain on stop. See docs/amqp.md.

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tomodachi {

// ---- Errors (the names of Python tomodachi's exceptions) ---------------------------------

/// Base of every AMQP transport error.
class AmqpException : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The broker cannot be reached, refused the login, or the connection is gone and did not
/// come back in time.
class AmqpConnectionException : public AmqpException {
 public:
  using AmqpException::AmqpException;
};

/// A non-competing queue already has a consumer (only one instance may consume it).
class AmqpTooManyConsumersException : public AmqpException {
 public:
  using AmqpException::AmqpException;
};

/// The queue is exclusive to another connection (RESOURCE_LOCKED, 405).
class AmqpExclusiveQueueLockedException : public AmqpException {
 public:
  using AmqpException::AmqpException;
};

/// The broker closed a channel because of an operation (reply code and text from the broker),
/// e.g. 404 for a publish to a missing exchange, 406 for a queue declared with other arguments.
class AmqpChannelClosed : public AmqpException {
 public:
  AmqpChannelClosed(int reply_code, std::string reply_text, const std::string& message)
      : AmqpException(message), reply_code_(reply_code), reply_text_(std::move(reply_text)) {}
  int reply_code() const noexcept { return reply_code_; }
  const std::string& reply_text() const noexcept { return reply_text_; }

 private:
  int reply_code_;
  std::string reply_text_;
};

// ---- Message properties ---------------------------------------------------------------------

/// AMQP basic properties of a delivery (and of a publish). Unset fields are not sent;
/// tomodachi publishes with none at all unless asked (upstream's wire shape).
struct AmqpProperties {
  std::optional<std::string> content_type;
  std::optional<std::string> content_encoding;
  std::optional<boost::json::object> headers;  ///< field table as JSON (bytes as strings)
  std::optional<std::uint8_t> delivery_mode;   ///< 2 = persistent
  std::optional<std::uint8_t> priority;
  std::optional<std::string> correlation_id;
  std::optional<std::string> reply_to;
  std::optional<std::string> expiration;
  std::optional<std::string> message_id;
  std::optional<std::uint64_t> timestamp;  ///< seconds since the epoch
  std::optional<std::string> type;
  std::optional<std::string> user_id;
  std::optional<std::string> app_id;

  bool empty() const noexcept {
    return !content_type && !content_encoding && !headers && !delivery_mode && !priority &&
           !correlation_id && !reply_to && !expiration && !message_id && !timestamp && !type &&
           !user_id && !app_id;
  }
  friend bool operator==(const AmqpProperties&, const AmqpProperties&) = default;
};

// ---- Names (upstream's helpers) -----------------------------------------------------------

namespace amqp_names {

/// Routing-key encoding of spec/wire.md §2.3: every code point outside `A-Z a-z 0-9` and
/// `_*#,;.:<>!"%&/()[]{}\=?'^`~+|@$ -` becomes `___<hex of its UTF-8 bytes>_`.
std::string encode_routing_key(std::string_view routing_key);

/// The inverse; throws std::invalid_argument when a group is not valid UTF-8.
std::string decode_routing_key(std::string_view encoded);

/// The wire routing key: encode(prefix + routing_key), the prefix being `prefix_override`
/// when given (empty = none) and otherwise option `amqp.routing_key_prefix`.
std::string routing_key(std::string_view routing_key, std::string_view option_prefix,
                        const std::optional<std::string>& prefix_override = std::nullopt);

/// Queue name of a subscription (spec/wire.md §2.4): `queue_name_prefix + queue_name`, or the
/// prefix + sha256 of the encoded, unprefixed routing key (competing) or of key + handler
/// name + service uuid (non-competing, the default without an explicit queue name).
std::string queue_name(std::string_view routing_key, std::string_view handler_name,
                       std::string_view service_uuid, std::optional<bool> competing = std::nullopt,
                       const std::optional<std::string>& queue_name = std::nullopt,
                       std::string_view queue_name_prefix = {});

}  // namespace amqp_names

}  // namespace tomodachi
