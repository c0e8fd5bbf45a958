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

// A JSON string as Python writes it; printable ASCII without `"` or `\` (names, uuids,
// most topics) needs no escaping and no temporary.
void append_json_string(std::string& out, std::string_view text) {
  for (const char c : text) {
    if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') {
      json::dumps_to(out, boost::json::string(text));
      return;
    }
  }
  out += '"';
  out += text;
  out += '"';
}

void append_optional_string(std::string& out, const std::optional<std::string>& text) {
  if (text) {
    append_json_string(out, *text);
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
    throw EnvelopeError("JsonBase: payload is JSON " +
                        std::string(envelope_impl::kind_name(document)) + ", not an object");
  }
  return std::move(document.as_object());
}

// `message.get(key, {})`: a missing key is an empty object; a present key must hold an
// object (upstream calls `.get` on it, so null or a string fail). Moved out of `message`.
boost::json::object take_section(boost::json::object& message, std::string_view key) {
  const auto it = message.find(key);
  if (it == message.end()) return {};
  if (!it->value().is_object()) {
    throw EnvelopeError("JsonBase: '" + std::string(key) + "' is JSON " +
                        std::string(envelope_impl::kind_name(it->value())) + ", not an object");
  }
  return std::move(it->value().get_object());
}

boost::json::value take_or_null(boost::json::object& object, std::string_view key) {
  const auto it = object.find(key);
  return it == object.end() ? boost::json::value() : std::move(it->value());
}

boost::json::value decode_compressed_data(const boost::json::value& data, std::size_t max_size,
                                          std::size_t max_parsed_size) {
  if (!data.is_string()) {
    throw EnvelopeError("JsonBase: base64_gzip_json data is JSON " +
                        std::string(envelope_impl::kind_name(data)) + ", not a string");
  }
  const std::string compressed = envelope_impl::decode_base64_strict(data.get_string(), "JsonBase");
  const std::string text = envelope_impl::inflate(compressed, max_size, "JsonBase");
  return envelope_impl::parse_json_within(text, max_parsed_size, "JsonBase: base64_gzip_json data");
}

}  // namespace

std::string JsonBase::build(const PublishData& data, const BuildContext& context) const {
  if (data.is_protobuf()) {
    throw EnvelopeError("JsonBase cannot carry protobuf data (" + data.protobuf().type_name +
                        "); use ProtobufBase");
  }
  std::string data_json = json::dumps(data.json());
  const bool compress = data_json.size() >= compression_threshold;  // characters: the text is ASCII
  if (compress)
    data_json = json::dumps(
        boost::json::string(encoding::base64_encode(encoding::zlib_compress(data_json))));

  const std::string uuid4 = context.uuid4 ? *context.uuid4 : encoding::uuid4();
  const double timestamp = context.time ? *context.time : envelope_impl::time_now();
  const std::string message_uuid = context.sender.effective_message_uuid_prefix() + "." + uuid4;

  std::string out;
  out.reserve(data_json.size() + 400);
  out += R"({"service": {"name": )";
  append_optional_string(out, context.sender.name);
  out += R"(, "uuid": )";
  append_optional_string(out, context.sender.uuid);
  out += R"(}, "metadata": {"message_uuid": )";
  append_json_string(out, message_uuid);
  out += R"(, "protocol_version": ")";
  out += protocol_version;
  out += R"(", "compatible_protocol_versions": ["json_base-wip"], "timestamp": )";
  append_json(out, timestamp);
  out += R"(, "topic": )";
  append_json_string(out, context.topic);
  out += R"(, "data_encoding": ")";
  out += compress ? compressed_encoding : raw_encoding;
  out += R"("}, "data": )";
  out += data_json;
  out += '}';
  return out;
}

ParsedMessage JsonBase::parse(std::string_view payload, const MessageAttributes*) const {
  boost::json::object message = parse_object(payload);
  boost::json::object service = take_section(message, "service");
  boost::json::object metadata = take_section(message, "metadata");

  boost::json::value data_encoding = take_or_null(metadata, "data_encoding");
  // Decompressed data lives in its own (budgeted) memory resource: the result is built on
  // it, and constructed rather than assigned all the way out, so it is never copied.
  boost::json::value data = [&]() -> boost::json::value {
    if (data_encoding.is_string() && data_encoding.get_string() == raw_encoding)
      return take_or_null(message, "data");
    if (data_encoding.is_string() && data_encoding.get_string() == compressed_encoding) {
      return decode_compressed_data(take_or_null(message, "data"), max_decompressed_size_,
                                    max_parsed_size_);
    }
    return nullptr;
  }();

  const boost::json::storage_ptr storage = data.storage();
  boost::json::value message_uuid = take_or_null(metadata, "message_uuid");
  boost::json::value timestamp = take_or_null(metadata, "timestamp");
  boost::json::object out_service(2, storage);
  out_service.emplace("name", take_or_null(service, "name"));
  out_service.emplace("uuid", take_or_null(service, "uuid"));
  boost::json::object out_metadata(5, storage);
  out_metadata.emplace("message_uuid", message_uuid);
  out_metadata.emplace("protocol_version", take_or_null(metadata, "protocol_version"));
  out_metadata.emplace("timestamp", timestamp);
  out_metadata.emplace("topic", take_or_null(metadata, "topic"));
  out_metadata.emplace("data_encoding", std::move(data_encoding));
  boost::json::object out(3, storage);
  out.emplace("service", std::move(out_service));
  out.emplace("metadata", std::move(out_metadata));
  out.emplace("data", std::move(data));
  return ParsedMessage{.message = boost::json::value(std::move(out)),
                       .message_uuid = std::move(message_uuid),
                       .timestamp = std::move(timestamp)};
}

std::shared_ptr<const Envelope> json_base() {
  static const std::shared_ptr<const Envelope> instance = std::make_shared<JsonBase>();
  return instance;
}

}  // namespace tomodachi
