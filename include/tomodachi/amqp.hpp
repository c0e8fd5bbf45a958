#pragma once
/// @file
/// AMQP / RabbitMQ transport: `amqp<&Svc::handler>(routing_key, {...})` subscriptions and
/// `amqp_publish(service, data, routing_key, {...})`, wire-compatible with Python tomodachi
/// (spec/wire.md §2): same exchange, routing-key encoding, queue names and declarations.
/// Beyond upstream: publisher confirms, persistent messages on request, reconnect with
/// re-declaration, graceful drain on stop. See docs/amqp.md.

#include <tomodachi/delivery.hpp>
#include <tomodachi/detail/bind_member.hpp>
#include <tomodachi/detail/gcc12_publish.hpp>
#include <tomodachi/detail/message_handler_spec.hpp>
#include <tomodachi/envelope.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/service.hpp>
#include <tomodachi/task.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace tomodachi {

// ---- Subscribing and publishing -------------------------------------------------------------

/// Options of an `amqp(...)` registration (Python's decorator keywords).
struct AmqpOptions {
  /// Exchange to bind to; "" = option `amqp.exchange_name` (default `amq.topic`). Any other
  /// name than `amq.topic` is declared as a durable topic exchange.
  std::string exchange_name;
  /// Competing consumers share one queue (`sha256(routing key)`); non-competing instances get
  /// a queue each (`sha256(routing key + handler + service uuid)`, one consumer only).
  /// Unset: competing with an explicit `queue_name`, otherwise non-competing — upstream's
  /// code behaviour, which the README describes differently (spec/wire.md §2.4).
  std::optional<bool> competing;
  /// Explicit queue name (option `amqp.queue_name_prefix` is prepended).
  std::optional<std::string> queue_name;
  /// Envelope override: unset = the service's `message_envelope`; `no_envelope` = raw.
  EnvelopeOverride message_envelope;
  /// What happens after the handler: at-least-once with retries and dead-lettering
  /// (default), or `DeliveryPolicy::tomodachi()` for upstream's exact outcomes.
  DeliveryPolicy delivery = DeliveryPolicy::at_least_once();
};

/// The registration record of one AMQP subscription.
struct AmqpHandlerSpec : MessageHandlerSpec {
  /// The transport's identity: `HandlerSpec::transport` of its registrations.
  static constexpr std::string_view kind = "amqp";
  using MessageHandlerSpec::MessageHandlerSpec;
  std::string exchange_name;  ///< "" = option amqp.exchange_name
};

/// Options of `amqp_publish` (Python's keywords plus confirms and persistence).
/// Every member is trivially destructible on purpose: GCC 12 miscompiles aggregate
/// temporaries with non-trivial destructors inside `co_await` expressions, and
/// `co_await amqp_publish(*this, data, "key", {.wait = false})` is the natural call.
/// Strings are only read during the call.
struct AmqpPublishOptions {
  /// "" = option `amqp.exchange_name` (default `amq.topic`). Publishers never declare exchanges.
  std::string_view exchange_name;
  /// Unset = option `amqp.routing_key_prefix`; "" = no prefix.
  std::optional<std::string_view> routing_key_prefix;
  /// true: return when the broker confirmed the message (publisher confirms); false: return
  /// once it is handed to the connection (a failure is logged).
  bool wait = true;
  /// Unset = the service's `message_envelope`; `no_envelope` = raw.
  EnvelopeRef message_envelope;
  /// delivery_mode 2 (survives a broker restart in a durable queue). Default as upstream:
  /// no properties at all.
  bool persistent = false;
  /// How long the message may wait for a (re)connection and the broker's confirm before
  /// the publish fails with AmqpConnectionException.
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
};
static_assert(std::is_trivially_destructible_v<AmqpPublishOptions>);

/// Publishes `data` (wrapped by the envelope in effect) with routing key
/// encode(prefix + `routing_key`). Connects on first use; throws AmqpConnectionException
/// (`Unable to connect [amqp] to host:port (reason)`) when the broker cannot be reached,
/// AmqpChannelClosed when the exchange does not exist, AmqpException when the broker
/// rejects the message, EnvelopeError when the data does not suit the envelope.
Task<void> amqp_publish(const Service& service, PublishData data, std::string_view routing_key,
                        AmqpPublishOptions options = {});

namespace detail {

/// The coroutine behind the GCC 12 `amqp_publish(...)` macro: owns every string the
/// options view, since the caller's temporaries end before it runs.
inline Task<void> amqp_publish_owned(const Service& service, PublishData data,
                                     std::string routing_key, AmqpPublishOptions options,
                                     std::string exchange_name,
                                     std::optional<std::string> routing_key_prefix) {
  options.exchange_name = exchange_name;
  if (routing_key_prefix) options.routing_key_prefix = *routing_key_prefix;
  co_await amqp_publish(service, std::move(data), routing_key, options);
}

/// `amqp_publish` with the strings copied before the caller's statement ends.
inline Task<void> amqp_publish_owning(const Service& service, PublishData data,
                                      std::string_view routing_key,
                                      AmqpPublishOptions options = {}) {
  std::optional<std::string> prefix;
  if (options.routing_key_prefix) prefix.emplace(*options.routing_key_prefix);
  return amqp_publish_owned(service, std::move(data), std::string(routing_key), options,
                            std::string(options.exchange_name), std::move(prefix));
}

}  // namespace detail

// ---- Errors (the names of Python tomodachi's exceptions) ---------------------------------

/// Base of every AMQP transport error.
class AmqpException : public Error {
 public:
  using Error::Error;
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

/// The inverse; throws tomodachi::ArgumentError when a group is not valid UTF-8.
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

// ---- Service::amqp ----------------------------------------------------------------------

template <typename Handler>
void Service::amqp(std::string_view routing_key, std::string name, Handler&& handler,
                   const AmqpOptions& options) {
  auto spec =
      std::make_unique<AmqpHandlerSpec>(std::string(AmqpHandlerSpec::kind), std::move(name));
  spec->pattern = std::string(routing_key);
  spec->handler = MessageHandler(std::forward<Handler>(handler));
  spec->message_envelope = options.message_envelope;
  spec->delivery = options.delivery;
  spec->queue_name = options.queue_name;
  spec->competing = options.competing;
  spec->exchange_name = options.exchange_name;
  add_handler(std::move(spec));
}

template <auto Fn>
void Service::amqp(std::string_view routing_key, const AmqpOptions& options) {
  if constexpr (detail::check_service_member<Fn>()) {
    constexpr bool ok = std::is_invocable_r_v<Task<void>, detail::bound_member_t<Fn>&, Message&>;
    static_assert(ok,
                  "tomodachi: an amqp handler must be `tomodachi::Task<void> "
                  "fn(tomodachi::Message&)`");
    if constexpr (ok) {
      amqp(routing_key, std::string(detail::handler_name<Fn>()),
           MessageHandler(detail::bind_member<Fn>(*this)), options);
    }
  }
}

}  // namespace tomodachi

// GCC 12 builds the caller's coroutine frame wrongly for `co_await amqp_publish(*this,
// boost::json::object{{"k", "v"}}, "key")` ("array used as initializer"): see
// detail/gcc12_publish.hpp. The call is evaluated inside a lambda instead.
#if TOMODACHI_GCC12_PUBLISH_WORKAROUND
#define amqp_publish(...)                      \
  amqp_publish_gcc12(::tomodachi::Gcc12Call{}, \
                     [&]() { return ::tomodachi::detail::amqp_publish_owning(__VA_ARGS__); })
#endif
