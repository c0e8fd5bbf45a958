#pragma once
/// @file
/// Message envelopes (spec/wire.md §1): the codec between what a service publishes and
/// the payload string on the wire. `JsonBase` and `ProtobufBase` produce and accept
/// exactly what Python tomodachi does; raw mode (no envelope) sends a string unchanged;
/// a custom envelope derives from `Envelope`.
///
/// Which envelope a subscription or publish uses: its own `message_envelope` option when
/// set (`tomodachi::no_envelope` forces raw mode), else the service's
/// `message_envelope` member, else raw mode.

#include <tomodachi/error.hpp>
#include <tomodachi/message_attributes.hpp>

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_ref.hpp>

#include <concepts>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace google::protobuf {
class MessageLite;
}

namespace tomodachi {

class Service;

/// A payload could not be built or parsed (invalid JSON, bad base64, a corrupt or
/// oversized compressed body, a protobuf decode error, ...). The text names the reason.
class EnvelopeError : public Error {
 public:
  using Error::Error;
  ~EnvelopeError() override;
};

/// The publishing service as an envelope records it.
struct EnvelopeSender {
  std::optional<std::string> name;  ///< `service.name`; null when the service has none
  std::optional<std::string> uuid;  ///< `service.uuid`; null when the service has none
  /// Prefix of `metadata.message_uuid` (`"{prefix}.{uuid4}"`); unset → `uuid`, or "" without
  /// one. Only needed to reproduce upstream's `None.<uuid4>` for a service whose uuid is None.
  std::optional<std::string> message_uuid_prefix;

  /// Name and uuid of `service`.
  static EnvelopeSender of(const Service& service);

  std::string effective_message_uuid_prefix() const {
    if (message_uuid_prefix) return *message_uuid_prefix;
    return uuid.value_or(std::string());
  }
};

/// A protobuf message type, recognised by its generated API so that this header needs no
/// protobuf include.
template <typename T>
concept ProtobufMessage = requires(const T& message, T& target, const std::string& bytes) {
  { message.SerializeAsString() } -> std::convertible_to<std::string>;
  { target.ParseFromString(bytes) } -> std::convertible_to<bool>;
  { message.GetTypeName() } -> std::convertible_to<std::string>;
};

/// A serialized protobuf message on its way to `ProtobufBase`.
struct ProtobufData {
  std::string type_name;  ///< full name, e.g. `proto.Person`
  std::string bytes;      ///< `SerializeAsString()`
};

/// What a publisher hands to an envelope: a JSON value (JsonBase, custom envelopes, and
/// the payload string itself in raw mode) or a protobuf message (ProtobufBase). Anything
/// `boost::json::value_from` converts is accepted, described structs included.
class PublishData {
 public:
  PublishData() = default;
  PublishData(boost::json::value value) : json_(std::move(value)) {}
  /// Braced JSON as Boost.JSON reads it: `{{"key", "value"}, {"n", 1}}` is an object,
  /// `{1, 2, 3}` an array.
  PublishData(std::initializer_list<boost::json::value_ref> init) : json_(init) {}
  PublishData(ProtobufData data) : protobuf_(std::move(data)) {}
  template <ProtobufMessage T>
  PublishData(const T& message)
      : protobuf_(ProtobufData{message.GetTypeName(), message.SerializeAsString()}) {}
  /// Strings, numbers, JSON containers, and whatever `boost::json::value_from` converts.
  template <typename T>
  requires(!ProtobufMessage<std::remove_cvref_t<T>> &&
           !std::is_same_v<std::remove_cvref_t<T>, PublishData> &&
           !std::is_same_v<std::remove_cvref_t<T>, ProtobufData> &&
           !std::is_same_v<std::remove_cvref_t<T>, boost::json::value>) PublishData(T&& value)
      : json_(to_json(std::forward<T>(value))) {}

  bool is_protobuf() const noexcept { return protobuf_.has_value(); }
  /// The JSON value (null for protobuf data).
  const boost::json::value& json() const noexcept { return json_; }
  /// The protobuf data; throws EnvelopeError for JSON data.
  const ProtobufData& protobuf() const;

 private:
  template <typename T>
  static boost::json::value to_json(T&& value) {
    if constexpr (std::is_constructible_v<boost::json::value, T&&>) {
      return boost::json::value(std::forward<T>(value));
    } else {
      return boost::json::value_from(std::forward<T>(value));
    }
  }

  boost::json::value json_;
  std::optional<ProtobufData> protobuf_;
};

/// Inputs of `Envelope::build` besides the data.
struct BuildContext {
  EnvelopeSender sender;
  /// Unprefixed topic or routing key (`""` for SQS direct sends): `metadata.topic`.
  std::string topic;
  /// SNS/SQS publishing: the attributes that will be sent; an envelope may add some.
  MessageAttributes* message_attributes = nullptr;
  /// Fixed uuid4 for `message_uuid` (tests, reproducible captures); random when unset.
  std::optional<std::string> uuid4;
  /// Fixed `time.time()` value for `metadata.timestamp`; the wall clock when unset.
  std::optional<double> time;
};

/// What `Envelope::parse` returns (Python's `(message, message_uuid, timestamp)`).
struct ParsedMessage {
  /// Python's `message`: JsonBase/ProtobufBase `{"service", "metadata", "data"}` (for
  /// ProtobufBase `data` is null here, see `data_bytes`/`data_proto`); any value for a
  /// custom envelope. JsonBase builds decompressed data on a memory resource of its own:
  /// move-construct a ParsedMessage rather than assign one (Boost.JSON copies a value
  /// assigned across memory resources).
  boost::json::value message;
  /// `metadata.message_uuid` or null; a truthy value enables duplicate suppression.
  boost::json::value message_uuid;
  /// `metadata.timestamp` or null (informational).
  boost::json::value timestamp;
  /// Binary `data` (ProtobufBase): the bytes as carried, or the inner message's bytes
  /// after decoding when the envelope knows the message type.
  std::optional<std::string> data_bytes;
  /// The decoded inner message (`ProtobufBase::of<T>()`), else null.
  std::shared_ptr<const google::protobuf::MessageLite> data_proto;
};

/// An envelope codec. Implementations are immutable and shared between subscriptions.
class Envelope {
 public:
  virtual ~Envelope();

  /// Short name for logs and errors, e.g. `JsonBase`.
  virtual std::string_view name() const noexcept = 0;

  /// Called once per subscription when it is registered (Python `validate(**kwargs)`);
  /// throws (any std::exception) to abort the service start: the registration then fails
  /// with a tomodachi::ArgumentError naming the handler and this message.
  virtual void validate() const {}

  /// Wraps `data` into the payload string to publish. Throws EnvelopeError when the data
  /// does not suit the envelope.
  virtual std::string build(const PublishData& data, const BuildContext& context) const = 0;

  /// Unwraps a received payload. `message_attributes` is non-null on SNS/SQS deliveries.
  /// Throws (EnvelopeError or any exception) when the payload cannot be parsed.
  virtual ParsedMessage parse(std::string_view payload,
                              const MessageAttributes* message_attributes) const = 0;
};

/// Explicit raw mode in a per-subscription / per-publish `message_envelope` option.
inline constexpr std::nullptr_t no_envelope = nullptr;

/// A per-subscription / per-publish envelope choice: unset → the service default;
/// `no_envelope` → raw mode; else that envelope.
using EnvelopeOverride = std::optional<std::shared_ptr<const Envelope>>;

/// The envelope choice of a publish call (`AmqpPublishOptions`, `AwsSnsSqsPublishOptions`,
/// `SqsSendMessageOptions`): unset → the service default; `tomodachi::no_envelope` (or a
/// null pointer) → raw mode; else that envelope, which the caller keeps alive during the
/// call (`tomodachi::json_base()` and other shared envelopes are). Unlike
/// `EnvelopeOverride` it is trivially destructible: GCC 12 miscompiles aggregate
/// temporaries with non-trivial destructors inside `co_await` expressions, and
/// `co_await publish(..., {.message_envelope = tomodachi::json_base()})` is the natural call.
class EnvelopeRef {
 public:
  constexpr EnvelopeRef() noexcept = default;
  constexpr EnvelopeRef(std::nullptr_t) noexcept : kind_(Kind::raw) {}
  EnvelopeRef(const Envelope& envelope) noexcept : kind_(Kind::given), envelope_(&envelope) {}
  EnvelopeRef(const Envelope* envelope) noexcept
      : kind_(envelope ? Kind::given : Kind::raw), envelope_(envelope) {}
  template <typename T>
  requires std::is_base_of_v<Envelope, T> EnvelopeRef(const std::shared_ptr<T>& envelope)
  noexcept : kind_(envelope ? Kind::given : Kind::raw), envelope_(envelope.get()) {}
  EnvelopeRef(const EnvelopeOverride& choice) noexcept {
    if (choice) *this = EnvelopeRef(*choice);
  }

  /// Unset: the service's default applies.
  bool is_default() const noexcept { return kind_ == Kind::service_default; }
  /// The envelope given; null for the service default and for raw mode.
  const Envelope* get() const noexcept { return envelope_; }

  /// The choice as `EnvelopeOverride`, not owning the envelope (valid during the call).
  EnvelopeOverride as_override() const {
    switch (kind_) {
      case Kind::service_default:
        return std::nullopt;
      case Kind::raw:
        return std::shared_ptr<const Envelope>();
      case Kind::given:
        return std::shared_ptr<const Envelope>(std::shared_ptr<const Envelope>(), envelope_);
    }
    return std::nullopt;
  }

 private:
  enum class Kind { service_default, raw, given };
  Kind kind_ = Kind::service_default;
  const Envelope* envelope_ = nullptr;
};
static_assert(std::is_trivially_destructible_v<EnvelopeRef>);

/// The envelope in effect for `choice` on `service` (null = raw mode).
std::shared_ptr<const Envelope> resolve_envelope(const EnvelopeOverride& choice,
                                                 const Service& service);
/// The same with the service default given directly.
inline std::shared_ptr<const Envelope> resolve_envelope(
    const EnvelopeOverride& choice, std::shared_ptr<const Envelope> service_default) {
  return choice ? *choice : std::move(service_default);
}

/// Raw mode publishing: the payload is the data string itself (spec/wire.md §1.3).
/// Throws EnvelopeError when the data is not a string.
std::string build_raw_payload(const PublishData& data);

/// Default bound for decompressed envelope data (compression bombs): 16 MiB.
inline constexpr std::size_t default_max_decompressed_size = std::size_t{16} << 20;
/// Default bound for the memory that decompressed JSON data takes once parsed (the
/// parser's working memory included): 64 MiB. JSON text can take ten times its size
/// parsed (`[[0],[0],...]`); this keeps a message below 16 + 64 MiB.
inline constexpr std::size_t default_max_parsed_size = std::size_t{64} << 20;

/// JsonBase (`tomodachi-json-base--1.0.0`, spec/wire.md §1.1). Payloads are byte for
/// byte what Python tomodachi writes; data whose Python JSON has 60000 characters or
/// more travels zlib-compressed and base64-encoded (`base64_gzip_json`).
class JsonBase final : public Envelope {
 public:
  static constexpr std::string_view protocol_version = "tomodachi-json-base--1.0.0";
  static constexpr std::size_t compression_threshold = 60000;

  /// `max_decompressed_size` bounds the inflated size of `base64_gzip_json` data and
  /// `max_parsed_size` the memory its JSON takes parsed; a larger body is rejected with
  /// an EnvelopeError (a poison message: dead-lettered by default). Uncompressed payloads
  /// are bounded by the transport (SQS: 256 KiB; AMQP: the broker's maximum message size).
  explicit JsonBase(std::size_t max_decompressed_size = default_max_decompressed_size,
                    std::size_t max_parsed_size = default_max_parsed_size)
      : max_decompressed_size_(max_decompressed_size), max_parsed_size_(max_parsed_size) {}

  std::string_view name() const noexcept override { return "JsonBase"; }
  std::string build(const PublishData& data, const BuildContext& context) const override;
  ParsedMessage parse(std::string_view payload,
                      const MessageAttributes* message_attributes) const override;

 private:
  std::size_t max_decompressed_size_;
  std::size_t max_parsed_size_;
};

/// A shared JsonBase with default limits, for `message_envelope = tomodachi::json_base();`.
std::shared_ptr<const Envelope> json_base();

/// ProtobufBase (`tomodachi-protobuf-base--1.0.0`, spec/wire.md §1.2): the payload is the
/// base64 of a `proto.SNSSQSMessage` carrying the user's serialized message; inner
/// messages above 60000 bytes travel zlib-compressed (`gzip_proto`).
///
/// Subscriptions need the message type (Python's `proto_class`):
/// `ProtobufBase::of<Person>()`; handlers then read `message.data_as<Person>()`.
/// Publishing works with any instance (the data carries its own type).
class ProtobufBase final : public Envelope {
 public:
  static constexpr std::string_view protocol_version = "tomodachi-protobuf-base--1.0.0";
  static constexpr std::size_t compression_threshold = 60000;

  using Factory = std::function<std::shared_ptr<google::protobuf::MessageLite>()>;
  using Validator = std::function<void(const google::protobuf::MessageLite&)>;

  /// Without a message type: parsing returns the carried bytes undecoded, and a
  /// subscription using it fails `validate()` as upstream's does without `proto_class`.
  explicit ProtobufBase(std::size_t max_decompressed_size = default_max_decompressed_size);

  /// With message type `T` (Python `proto_class=T`) and an optional `validator`
  /// (Python `validator=`): called with each decoded message; an exception it throws is
  /// logged as a warning (logger `tomodachi.envelope`) and makes the parse fail.
  template <ProtobufMessage T>
  static std::shared_ptr<const ProtobufBase> of(
      std::function<void(const T&)> validator = {},
      std::size_t max_decompressed_size = default_max_decompressed_size) {
    Factory factory = [] {
      return std::shared_ptr<google::protobuf::MessageLite>(std::make_shared<T>());
    };
    Validator erased;
    if (validator) {
      erased = [validator = std::move(validator)](const google::protobuf::MessageLite& message) {
        validator(static_cast<const T&>(message));
      };
    }
    return std::shared_ptr<const ProtobufBase>(new ProtobufBase(
        T().GetTypeName(), std::move(factory), std::move(erased), max_decompressed_size));
  }

  /// The bound message type (`proto.Person`), or "" without one.
  const std::string& type_name() const noexcept { return type_name_; }

  std::string_view name() const noexcept override { return "ProtobufBase"; }
  void validate() const override;
  std::string build(const PublishData& data, const BuildContext& context) const override;
  ParsedMessage parse(std::string_view payload,
                      const MessageAttributes* message_attributes) const override;

 private:
  ProtobufBase(std::string type_name, Factory factory, Validator validator,
               std::size_t max_decompressed_size);

  std::string type_name_;
  Factory factory_;
  Validator validator_;
  std::size_t max_decompressed_size_;
};

}  // namespace tomodachi
