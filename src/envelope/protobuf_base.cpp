// ProtobufBase envelope (spec/wire.md §1.2).
#include <tomodachi/envelope.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/logging.hpp>

#include "core/encoding.hpp"
#include "envelope/envelope_common.hpp"
#include "envelope/sns_sqs_codec.hpp"

#include <google/protobuf/message_lite.h>

#include <boost/json/object.hpp>

#include <climits>
#include <exception>

namespace tomodachi {
namespace {

constexpr std::string_view envelope_name = "ProtobufBase";

// The inner message bytes for `data_encoding`, or nullopt for an encoding whose data
// upstream does not decode (it then returns an empty message).
std::optional<std::string> inner_bytes(const envelope_impl::OuterMessage& outer,
                                       std::size_t max_size) {
  const std::string& encoding = outer.data_encoding;
  if (encoding == "proto") return outer.data;
  if (encoding == "gzip_proto") return envelope_impl::inflate(outer.data, max_size, envelope_name);
  if (encoding == "base64" || encoding == "base64_gzip_proto") {
    std::optional<std::string> decoded = encoding::base64_decode(outer.data);
    if (!decoded)
      throw EnvelopeError("ProtobufBase: " + encoding +
                          " data is not valid base64 (incorrect padding)");
    if (encoding == "base64") return decoded;
    return envelope_impl::inflate(*decoded, max_size, envelope_name);
  }
  return std::nullopt;
}

}  // namespace

ProtobufBase::ProtobufBase(std::size_t max_decompressed_size)
    : max_decompressed_size_(max_decompressed_size) {}

ProtobufBase::ProtobufBase(std::string type_name, Factory factory, Validator validator,
                           std::size_t max_decompressed_size)
    : type_name_(std::move(type_name)),
      factory_(std::move(factory)),
      validator_(std::move(validator)),
      max_decompressed_size_(max_decompressed_size) {}

void ProtobufBase::validate() const {
  if (!factory_) {
    throw ArgumentError(
        "ProtobufBase needs the protobuf message type of the subscription (Python's proto_class): "
        "use tomodachi::ProtobufBase::of<YourMessage>()");
  }
}

std::string ProtobufBase::build(const PublishData& data, const BuildContext& context) const {
  if (!data.is_protobuf()) {
    throw EnvelopeError("ProtobufBase needs a protobuf message as data, got JSON " +
                        std::string(envelope_impl::kind_name(data.json())));
  }
  envelope_impl::OuterMessage outer;
  outer.data = data.protobuf().bytes;
  outer.data_encoding = "proto";
  if (outer.data.size() > compression_threshold) {
    outer.data = encoding::zlib_compress(outer.data);
    outer.data_encoding = "gzip_proto";
  }
  outer.service_name = context.sender.name.value_or(std::string());
  outer.service_uuid = context.sender.uuid.value_or(std::string());
  outer.message_uuid = context.sender.effective_message_uuid_prefix() + "." +
                       (context.uuid4 ? *context.uuid4 : encoding::uuid4());
  outer.protocol_version = protocol_version;
  outer.timestamp = context.time ? *context.time : envelope_impl::time_now();
  outer.topic = context.topic;
  return encoding::base64_encode(envelope_impl::serialize_outer(outer));
}

ParsedMessage ProtobufBase::parse(std::string_view payload, const MessageAttributes*) const {
  const std::string bytes = envelope_impl::decode_base64_strict(payload, envelope_name);
  envelope_impl::OuterMessage outer;
  if (bytes.size() > static_cast<std::size_t>(INT_MAX) ||
      !envelope_impl::parse_outer(bytes, outer)) {
    throw EnvelopeError("ProtobufBase: payload is not a valid proto.SNSSQSMessage");
  }

  ParsedMessage result;
  result.message_uuid = boost::json::string(outer.message_uuid);
  result.timestamp = outer.timestamp;
  result.message = boost::json::object{
      {"service", boost::json::object{{"name", outer.service_name}, {"uuid", outer.service_uuid}}},
      {"metadata", boost::json::object{{"message_uuid", outer.message_uuid},
                                       {"protocol_version", outer.protocol_version},
                                       {"timestamp", outer.timestamp},
                                       {"topic", outer.topic},
                                       {"data_encoding", outer.data_encoding}}},
      {"data", nullptr},
  };

  if (!factory_ || outer.data_encoding == "raw") {
    result.data_bytes = std::move(outer.data);
    return result;
  }

  std::shared_ptr<google::protobuf::MessageLite> decoded = factory_();
  std::optional<std::string> inner = inner_bytes(outer, max_decompressed_size_);
  if (inner) {
    if (inner->size() > static_cast<std::size_t>(INT_MAX) || !decoded->ParseFromString(*inner)) {
      throw EnvelopeError("ProtobufBase: data is not a valid " + type_name_);
    }
  }
  if (validator_) {
    std::exception_ptr failure;
    try {
      validator_(*decoded);
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) {
      get_logger("tomodachi.envelope")
          .warning(
              "message validation failed: " + describe_exception(failure),
              {{"envelope", "ProtobufBase"}, {"proto_class", boost::json::string(type_name_)}});
      std::rethrow_exception(failure);
    }
  }
  result.data_bytes = inner ? std::move(*inner) : std::string();
  result.data_proto = std::move(decoded);
  return result;
}

}  // namespace tomodachi
