#pragma once
/// @file
/// `tomodachi::Message`: what an AMQP or SNS/SQS handler receives. It carries every
/// value a Python tomodachi handler can ask for by name (spec/wire.md §4, §2.7, §3.9):
/// the parsed envelope (`data`, `metadata`, `service`, the whole `message`), the
/// `message_uuid`, the topic / routing key, message attributes, the transport's delivery
/// details (`receipt_handle`, `queue_url`, `approximate_receive_count`, ...,
/// `exchange_name`, `properties`), the raw payload, plus typed access to the data:
///
/// ```cpp
/// struct Order { std::string id; int quantity; std::optional<std::string> note; };
/// BOOST_DESCRIBE_STRUCT(Order, (), (id, quantity, note))
///
/// tomodachi::Task<void> on_order(tomodachi::Message& message) {
///   const Order order = message.data_as<Order>();   // DataError names a field that does not fit
///   message.logger().info("order received", {{"id", order.id}});
///   co_return;
/// }
/// ```

#include <tomodachi/detail/json_to.hpp>
#include <tomodachi/envelope.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/message_attributes.hpp>
#include <tomodachi/message_middleware.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <any>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace google::protobuf {
class MessageLite;
}

namespace tomodachi {

class Service;

/// A received message as a transport hands it to the messaging core
/// (`MessageDispatcher::dispatch`). Transport values use their Python names.
struct IncomingMessage {
  /// The envelope payload: the AMQP body, or the SNS/SQS `Message` string.
  std::string payload;
  /// The value offered as `topic` (SNS/SQS: the message's topic, "" for direct sends) or
  /// `routing_key` (AMQP: the subscription's routing key, as upstream offers it).
  std::string topic;
  /// SNS/SQS: the decoded message attributes (also handed to the envelope's parse).
  std::optional<MessageAttributes> message_attributes;
  /// Transport values by name: SNS/SQS `receipt_handle`, `queue_url`,
  /// `approximate_receive_count`, `sns_message_id`, `sqs_message_id`, `message_type`,
  /// `raw_message_body`, `message_timestamp`, `message_deduplication_id`,
  /// `message_group_id`; AMQP `routing_key`, `exchange_name`, `properties`. Middleware
  /// cannot override them.
  boost::json::object transport_values;
  /// Extra fields bound to the handler's logger (e.g. `topic`, `sns_message_id`).
  LogFields log_context;
  /// A transport that parsed the payload already (AMQP parses JsonBase payloads on its
  /// I/O thread) hands over what the subscription's envelope returned for `payload`...
  std::optional<ParsedMessage> parsed;
  /// ... or what it threw. The core then does not parse again; with neither set it
  /// parses `payload` with the subscription's envelope itself.
  std::exception_ptr parse_error;
};

/// Per-message state shared by the middleware chain (Python's middleware `context`
/// dict): JSON values in `values`, any C++ object through `set`/`get`.
class MiddlewareContext {
 public:
  boost::json::object values;

  template <typename T>
  void set(std::string key, T value) {
    objects_.insert_or_assign(std::move(key), std::any(std::move(value)));
  }
  /// The object stored under `key` when it has type T, else null.
  template <typename T>
  T* get(std::string_view key) {
    const auto it = objects_.find(key);
    return it == objects_.end() ? nullptr : std::any_cast<T>(&it->second);
  }

 private:
  std::map<std::string, std::any, std::less<>> objects_;
};

/// One received message, valid while its handler (and middleware) run.
class Message {
 public:
  /// What the messaging core knows besides the transport's values.
  struct Context {
    Service* receiver = nullptr;  ///< the service handling the message
    std::string handler_name;     ///< the handler (function) name
    Logger logger;                ///< `tomodachi.amqp.handler` / `tomodachi.awssnssqs.handler`
    int attempt = 1;              ///< delivery attempt, 1-based
    bool raw_mode = false;        ///< no envelope: the payload is the data
  };

  Message(IncomingMessage incoming, ParsedMessage parsed, Context context);

  // ---- the parsed envelope ---------------------------------------------------------

  /// Python's `message`: the whole parsed envelope (JsonBase/ProtobufBase:
  /// `{"service", "metadata", "data"}`); in raw mode the payload string.
  const boost::json::value& parsed() const noexcept { return parsed_.message; }
  /// `data` of the envelope; in raw mode the payload string. Null for ProtobufBase
  /// (use `data_as<T>()` or `data_bytes()`).
  const boost::json::value& data() const noexcept;
  /// `metadata` of the envelope (null when absent or in raw mode).
  const boost::json::value& metadata() const noexcept { return top_level("metadata"); }
  /// `service` of the envelope: the sender's `{"name", "uuid"}` (null when absent).
  const boost::json::value& service() const noexcept { return top_level("service"); }
  /// `metadata.message_uuid` as text (Python `str()`), when it is truthy.
  std::optional<std::string> message_uuid() const;
  /// `metadata.timestamp` as the envelope carried it (null when absent).
  const boost::json::value& timestamp() const noexcept { return parsed_.timestamp; }
  /// Binary data (ProtobufBase): the inner message's bytes.
  const std::optional<std::string>& data_bytes() const noexcept { return parsed_.data_bytes; }

  /// The data as `T`: a Boost.Describe'd struct, a container or scalar (from JSON data),
  /// or a protobuf message type (ProtobufBase). Throws DataError naming the field that
  /// does not fit.
  template <typename T>
  T data_as() const {
    if constexpr (ProtobufMessage<T>) {
      return protobuf_data_as<T>();
    } else {
      return detail::json_to<T>(data(), std::string());
    }
  }

  // ---- transport values ------------------------------------------------------------

  /// The payload as received (before the envelope parsed it).
  const std::string& payload() const noexcept { return incoming_.payload; }
  /// SNS/SQS: the topic ("" for direct sends); AMQP: the subscription's routing key.
  const std::string& topic() const noexcept { return incoming_.topic; }
  /// SNS/SQS message attributes (empty for AMQP).
  const MessageAttributes& message_attributes() const noexcept;
  /// All transport values by their Python names.
  const boost::json::object& transport_values() const noexcept {
    return incoming_.transport_values;
  }

  /// A transport string value by name ("" when absent): `receipt_handle`, `queue_url`,
  /// `sns_message_id`, `sqs_message_id`, `message_type`, `raw_message_body`,
  /// `message_timestamp`, `routing_key`, `exchange_name`, ...
  std::string_view transport_string(std::string_view name) const noexcept;
  std::string_view receipt_handle() const noexcept { return transport_string("receipt_handle"); }
  std::string_view queue_url() const noexcept { return transport_string("queue_url"); }
  std::string_view sns_message_id() const noexcept { return transport_string("sns_message_id"); }
  std::string_view sqs_message_id() const noexcept { return transport_string("sqs_message_id"); }
  std::string_view message_type() const noexcept { return transport_string("message_type"); }
  std::string_view raw_message_body() const noexcept {
    return transport_string("raw_message_body");
  }
  std::string_view message_timestamp() const noexcept {
    return transport_string("message_timestamp");
  }
  std::string_view routing_key() const noexcept { return transport_string("routing_key"); }
  std::string_view exchange_name() const noexcept { return transport_string("exchange_name"); }
  /// SQS `ApproximateReceiveCount` (nullopt when unknown).
  std::optional<std::int64_t> approximate_receive_count() const noexcept;
  /// SQS FIFO ids (nullopt for standard queues).
  std::optional<std::string> message_deduplication_id() const;
  std::optional<std::string> message_group_id() const;
  /// AMQP basic properties of the delivery (null for other transports).
  const boost::json::value& properties() const noexcept { return get("properties"); }

  // ---- values by name (Python's keyword arguments) ---------------------------------

  /// The value a Python handler parameter of this name would get: transport values
  /// (`message`, `message_uuid`, `topic`, ...), the envelope's top-level keys (`data`,
  /// `metadata`, `service`), then values set by middleware. Null when none.
  /// `message_attributes` is a JSON object of the SNS/SQS attributes with `Binary` values
  /// as base64 text (null for AMQP); `message_attributes()` has the typed values.
  const boost::json::value& get(std::string_view name) const noexcept;

  /// Adds a value for later middleware and the handler (Python's `next(name=value)`).
  /// Throws tomodachi::ArgumentError for a transport or envelope value: they cannot be
  /// overridden.
  void set(std::string name, boost::json::value value);

  // ---- context -----------------------------------------------------------------------

  /// The service handling this message (null only in bare unit tests).
  Service* receiver() const noexcept { return context_.receiver; }
  const std::string& handler_name() const noexcept { return context_.handler_name; }
  /// The handler's contextual logger (`tomodachi.amqp.handler` / `tomodachi.awssnssqs.handler`
  /// with `handler` and `type` fields).
  const Logger& logger() const noexcept { return context_.logger; }
  /// Delivery attempt, 1-based (retries of the at-least-once policy count up).
  int attempt() const noexcept { return context_.attempt; }
  /// True when the subscription has no envelope (raw mode).
  bool raw_mode() const noexcept { return context_.raw_mode; }

 private:
  const boost::json::value& top_level(std::string_view key) const noexcept;
  [[noreturn]] static void throw_data_error(std::string reason);

  template <typename T>
  T protobuf_data_as() const {
    if (parsed_.data_proto) {
      if (const auto* typed = dynamic_cast<const T*>(parsed_.data_proto.get())) return *typed;
      throw_data_error("the data was decoded as another protobuf type than " + T().GetTypeName());
    }
    if (!parsed_.data_bytes) throw_data_error("no binary data to decode as " + T().GetTypeName());
    T result;
    if (!result.ParseFromString(*parsed_.data_bytes)) {
      throw_data_error("the data is not a valid " + result.GetTypeName());
    }
    return result;
  }

  IncomingMessage incoming_;
  ParsedMessage parsed_;
  Context context_;
  boost::json::value attributes_json_;  // `get("message_attributes")`
  boost::json::object values_;          // set by middleware
};

/// A message handler: a service member function bound to its instance.
using MessageHandler = std::function<Task<void>(Message& message)>;

}  // namespace tomodachi
