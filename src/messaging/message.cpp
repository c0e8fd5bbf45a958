// tomodachi::Message: values by name (spec/wire.md §4).
#include <tomodachi/detail/assert.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/json.hpp>
#include <tomodachi/message.hpp>

#include "core/encoding.hpp"

#include <array>
#include <stdexcept>

namespace tomodachi {
namespace {

const boost::json::value& null_value() {
  static const boost::json::value instance;
  return instance;
}

// Python truthiness of a JSON value.
bool truthy(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      return false;
    case boost::json::kind::bool_:
      return value.get_bool();
    case boost::json::kind::int64:
      return value.get_int64() != 0;
    case boost::json::kind::uint64:
      return value.get_uint64() != 0;
    case boost::json::kind::double_:
      return value.get_double() != 0.0;
    case boost::json::kind::string:
      return !value.get_string().empty();
    case boost::json::kind::array:
      return !value.get_array().empty();
    case boost::json::kind::object:
      return !value.get_object().empty();
  }
  return false;
}

// Python `str(value)` for the duplicate key `"{message_uuid}:{handler}"`.
std::string python_str(const boost::json::value& value) {
  if (value.is_string()) return std::string(value.get_string());
  if (value.is_bool()) return value.get_bool() ? "True" : "False";
  if (value.is_double()) return json::float_repr(value.get_double());
  if (value.is_number()) return json::dumps(value);
  return json::python_repr(value);
}

// `message_attributes` by name: the decoded attributes as JSON, `Binary` values as their
// base64 text (as they travel on the wire).
boost::json::value attributes_as_json(const MessageAttributes& attributes) {
  boost::json::object object;
  object.reserve(attributes.size());
  for (const auto& [name, value] : attributes) {
    if (const auto* bytes = std::get_if<Bytes>(&value)) {
      object[name] = encoding::base64_encode(bytes->value);
    } else {
      object[name] = std::get<boost::json::value>(value);
    }
  }
  return object;
}

constexpr std::array<std::string_view, 3> fixed_names = {"message", "message_uuid",
                                                         "message_attributes"};

}  // namespace

DataError::~DataError() = default;

namespace detail {
std::string describe_json_for_error(const boost::json::value& value) {
  std::string text = json::dumps(value);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}
}  // namespace detail

Message::Message(IncomingMessage incoming, ParsedMessage parsed, Context context)
    : incoming_(std::move(incoming)), parsed_(std::move(parsed)), context_(std::move(context)) {
  TOMODACHI_ASSERT(context_.attempt >= 1, "Message::Context::attempt is 1-based");
  auto& values = incoming_.transport_values;
  if (!values.contains("topic") && !values.contains("routing_key"))
    values["topic"] = incoming_.topic;
  if (incoming_.message_attributes)
    attributes_json_ = attributes_as_json(*incoming_.message_attributes);
}

const boost::json::value& Message::data() const noexcept {
  if (context_.raw_mode) return parsed_.message;
  return top_level("data");
}

const boost::json::value& Message::top_level(std::string_view key) const noexcept {
  if (context_.raw_mode || !parsed_.message.is_object()) return null_value();
  const auto& object = parsed_.message.get_object();
  const auto it = object.find(key);
  return it == object.end() ? null_value() : it->value();
}

std::optional<std::string> Message::message_uuid() const {
  if (!truthy(parsed_.message_uuid)) return std::nullopt;
  return python_str(parsed_.message_uuid);
}

const MessageAttributes& Message::message_attributes() const noexcept {
  static const MessageAttributes empty;
  return incoming_.message_attributes ? *incoming_.message_attributes : empty;
}

std::string_view Message::transport_string(std::string_view name) const noexcept {
  const auto it = incoming_.transport_values.find(name);
  if (it == incoming_.transport_values.end() || !it->value().is_string()) return {};
  const auto& text = it->value().get_string();
  return {text.data(), text.size()};
}

std::optional<std::int64_t> Message::approximate_receive_count() const noexcept {
  const auto& value = get("approximate_receive_count");
  if (value.is_int64()) return value.get_int64();
  if (value.is_uint64()) return static_cast<std::int64_t>(value.get_uint64());
  return std::nullopt;
}

std::optional<std::string> Message::message_deduplication_id() const {
  const auto& value = get("message_deduplication_id");
  if (!value.is_string()) return std::nullopt;
  return std::string(value.get_string());
}

std::optional<std::string> Message::message_group_id() const {
  const auto& value = get("message_group_id");
  if (!value.is_string()) return std::nullopt;
  return std::string(value.get_string());
}

const boost::json::value& Message::get(std::string_view name) const noexcept {
  if (name == "message") return parsed_.message;
  if (name == "message_uuid") return parsed_.message_uuid;
  if (name == "message_attributes") return attributes_json_;
  if (const auto it = incoming_.transport_values.find(name);
      it != incoming_.transport_values.end()) {
    return it->value();
  }
  if (!context_.raw_mode && parsed_.message.is_object()) {
    const auto& object = parsed_.message.get_object();
    if (const auto it = object.find(name); it != object.end()) return it->value();
  }
  if (const auto it = values_.find(name); it != values_.end()) return it->value();
  return null_value();
}

void Message::set(std::string name, boost::json::value value) {
  bool reserved = incoming_.transport_values.contains(name);
  for (const auto fixed : fixed_names) reserved = reserved || name == fixed;
  if (!context_.raw_mode && parsed_.message.is_object())
    reserved = reserved || parsed_.message.get_object().contains(name);
  if (reserved) {
    throw ArgumentError(
        "message value '" + name +
        "' comes from the transport or the envelope and cannot be overridden by middleware");
  }
  values_[name] = std::move(value);
}

void Message::throw_data_error(std::string reason) { throw DataError(std::string(), reason); }

}  // namespace tomodachi
