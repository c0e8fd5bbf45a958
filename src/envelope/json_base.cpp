// JsonBase envelope (spec/wire.md §1.1): payloads byte-identical to Python tomodachi's.
#include <tomodachi/envelope.hpp>
#include <tomodachi/json.hpp>

#include "core/encoding.hpp"
#include "envelope/envelope_common.hpp"

#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

#include <system_error>

namespace tomodachi {
namespace {

constexpr std::string_view raw_encoding = "raw";
constexpr std::string_view compressed_encoding = "base64_gzip_json";

void append_json(std::string& out, const boost::json::value& value) { json::dumps_to(out, value); }

void append_optional_string(std::string& out, const std::optional<std::string>& text) {
  if (text) {
    append_json(out, boost::json::string(*text));
  } else {
    out += "null";
  }
}

// Python's `json.loads(payload)` followed by `.get(...)` on the result: the payload
// must be a JSON object.
boost::json::object parse_object(std::string_view payload) {
  std::error_code error;
  boost::json::value document = json::loads(payload, error);
  if (error) throw EnvelopeError("JsonBase: payload is not valid JSON");
  if (!document.is_object()) {
    throw EnvelopeError("JsonBase: payload is JSON " + std::string(envelope_detail::kind_name(document)) +
                        ", not an object");
  }
  return std::move(document.as_object());
}

// `message.get(key, {})`: a missing key is an empty object; a present key must hold an
// object (upstream calls `.get` on it, so null or a string fail).
const boost::json::object* section(const boost::json::object& message, std::string_view key) {
  static const boost::json::object empty;
  const auto it = message.find(key);
  if (it == message.end()) return &empty;
  if (!it->value().is_object()) {
    throw EnvelopeError("JsonBase: '" + std::string(key) + "' is JSON " +
                        std::string(envelope_detail::kind_name(it->value())) + ", not an object");
  }
  return &it->value().as_object();
}

boost::json::value get_or_null(const boost::json::object& object, std::string_view key) {
  const auto it = object.find(key);
  return it == object.end() ? boost::json::value() : it->value();
}

boost::json::value decode_compressed_data(const boost::json::value& data, std::size_t max_size) {
  if (!data.is_string()) {
    throw EnvelopeError("JsonBase: base64_gzip_json data is JSON " + std::string(envelope_detail::kind_name(data)) +
                        ", not a string");
  }
  const std::string compressed = envelope_detail::decode_base64_strict(data.get_string(), "JsonBase");
  const std::string text = envelope_detail::inflate(compressed, max_size, "JsonBase");
  std::error_code error;
  boost::json::value decoded = json::loads(text, error);
  if (error) throw EnvelopeError("JsonBase: base64_gzip_json data is not valid JSON");
  return decoded;
}

}  // namespace

std::string JsonBase::build(const PublishData& data, const BuildContext& context) const {
  if (data.is_protobuf()) {
    throw EnvelopeError("JsonBase cannot carry protobuf data (" + data.protobuf().type_name + "); use ProtobufBase");
  }
  std::string data_json = json::dumps(data.json());
  const bool compress = data_json.size() >= compression_threshold;  // characters: the text is ASCII
  if (compress) data_json = json::dumps(boost::json::string(encoding::base64_encode(encoding::zlib_compress(data_json))));

  const std::string uuid4 = context.uuid4 ? *context.uuid4 : encoding::uuid4();
  const double timestamp = context.time ? *context.time : envelope_detail::time_now();
  const std::string message_uuid = context.sender.effective_message_uuid_prefix() + "." + uuid4;

  std::string out;
  out.reserve(data_json.size() + 400);
  out += R"({"service": {"name": )";
  append_optional_string(out, context.sender.name);
  out += R"(, "uuid": )";
  append_optional_string(out, context.sender.uuid);
  out += R"(}, "metadata": {"message_uuid": )";
  append_json(out, boost::json::string(message_uuid));
  out += R"(, "protocol_version": ")";
  out += protocol_version;
  out += R"(", "compatible_protocol_versions": ["json_base-wip"], "timestamp": )";
  append_json(out, timestamp);
  out += R"(, "topic": )";
  append_json(out, boost::json::string(context.topic));
  out += R"(, "data_encoding": ")";
  out += compress ? compressed_encoding : raw_encoding;
  out += R"("}, "data": )";
  out += data_json;
  out += '}';
  return out;
}

ParsedMessage JsonBase::parse(std::string_view payload, const MessageAttributes*) const {
  const boost::json::object message = parse_object(payload);
  const boost::json::object& service = *section(message, "service");
  const boost::json::object& metadata = *section(message, "metadata");

  const boost::json::value data_encoding = get_or_null(metadata, "data_encoding");
  boost::json::value data;
  if (data_encoding.is_string() && data_encoding.get_string() == raw_encoding) {
    data = get_or_null(message, "data");
  } else if (data_encoding.is_string() && data_encoding.get_string() == compressed_encoding) {
    data = decode_compressed_data(get_or_null(message, "data"), max_decompressed_size_);
  }

  ParsedMessage result;
  result.message_uuid = get_or_null(metadata, "message_uuid");
  result.timestamp = get_or_null(metadata, "timestamp");
  result.message = boost::json::object{
      {"service", boost::json::object{{"name", get_or_null(service, "name")}, {"uuid", get_or_null(service, "uuid")}}},
      {"metadata", boost::json::object{{"message_uuid", result.message_uuid},
                                       {"protocol_version", get_or_null(metadata, "protocol_version")},
                                       {"timestamp", result.timestamp},
                                       {"topic", get_or_null(metadata, "topic")},
                                       {"data_encoding", data_encoding}}},
      {"data", std::move(data)},
  };
  return result;
}

std::shared_ptr<const Envelope> json_base() {
  static const std::shared_ptr<const Envelope> instance = std::make_shared<JsonBase>();
  return instance;
}

}  // namespace tomodachi
