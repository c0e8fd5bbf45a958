#include "aws/attributes.hpp"

#include "aws/ascii.hpp"

#include "core/encoding.hpp"

#include <tomodachi/json.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace tomodachi::aws {
namespace {

std::string_view strip(std::string_view text) {
  while (!text.empty() && ascii::is_space(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && ascii::is_space(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

// Python allows single underscores between digits ("1_000"); returns the digits without
// them, or nullopt when an underscore is misplaced.
std::optional<std::string> without_underscores(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '_') {
      const bool between_digits = i > 0 && i + 1 < text.size() &&
                                  ascii::is_digit(static_cast<unsigned char>(text[i - 1])) &&
                                  ascii::is_digit(static_cast<unsigned char>(text[i + 1]));
      if (!between_digits) return std::nullopt;
      continue;
    }
    out += text[i];
  }
  return out;
}

std::optional<boost::json::value> python_int(std::string_view text) {
  auto cleaned = without_underscores(strip(text));
  if (!cleaned || cleaned->empty()) return std::nullopt;
  std::string_view digits = *cleaned;
  bool negative = false;
  if (digits.front() == '+' || digits.front() == '-') {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) return std::nullopt;
  for (char c : digits) {
    if (!ascii::is_digit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  std::uint64_t magnitude = 0;
  const auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  if (error == std::errc{} && end == digits.data() + digits.size()) {
    if (!negative) {
      if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return boost::json::value(static_cast<std::int64_t>(magnitude));
      }
      return boost::json::value(magnitude);
    }
    if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1) {
      return boost::json::value(static_cast<std::int64_t>(0 - magnitude));
    }
  }
  // Beyond 64 bits: an exact big integer, written as Python's str(int) writes it.
  const auto significant = digits.find_first_not_of('0');
  return json::big_int((negative ? "-" : "") + std::string(digits.substr(significant)));
}

std::optional<boost::json::value> python_float(std::string_view text) {
  auto cleaned = without_underscores(strip(text));
  if (!cleaned || cleaned->empty()) return std::nullopt;
  std::string lowered = *cleaned;
  for (auto& c : lowered) c = ascii::to_lower(c);
  std::string_view body = lowered;
  const bool negative = !body.empty() && body.front() == '-';
  if (!body.empty() && (body.front() == '+' || body.front() == '-')) body.remove_prefix(1);
  if (body == "inf" || body == "infinity") {
    return boost::json::value(negative ? -std::numeric_limits<double>::infinity()
                                       : std::numeric_limits<double>::infinity());
  }
  if (body == "nan") return boost::json::value(std::numeric_limits<double>::quiet_NaN());
  // Python float syntax: digits [. digits] [e [sign] digits], at least one digit before or after
  // the dot.
  std::size_t i = 0;
  std::size_t mantissa_digits = 0;
  while (i < body.size() && ascii::is_digit(static_cast<unsigned char>(body[i])))
    ++i, ++mantissa_digits;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && ascii::is_digit(static_cast<unsigned char>(body[i])))
      ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return std::nullopt;
  if (i < body.size() && body[i] == 'e') {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) ++i;
    const auto exponent_start = i;
    while (i < body.size() && ascii::is_digit(static_cast<unsigned char>(body[i]))) ++i;
    if (i == exponent_start) return std::nullopt;
  }
  if (i != body.size()) return std::nullopt;
  double value = 0;
  const std::string copy(body);
  const auto [end, error] = std::from_chars(copy.data(), copy.data() + copy.size(), value);
  if (end != copy.data() + copy.size() ||
      (error != std::errc{} && error != std::errc::result_out_of_range)) {
    return std::nullopt;
  }
  if (error == std::errc::result_out_of_range) value = std::strtod(copy.c_str(), nullptr);
  return boost::json::value(negative ? -value : value);
}

const boost::json::value* first_of(const boost::json::object& entry,
                                   std::initializer_list<std::string_view> keys) {
  for (auto key : keys) {
    if (const auto* value = entry.if_contains(key)) return value;
  }
  return nullptr;
}

std::string text_of(const boost::json::value& value, std::string_view name) {
  if (value.is_string()) return std::string(value.as_string());
  throw AttributeDecodeError("message attribute '" + std::string(name) + "' has a non-text value");
}

}  // namespace

std::optional<boost::json::value> parse_python_number(std::string_view text) {
  if (text.find('.') == std::string_view::npos) {
    if (auto integer = python_int(text)) return integer;
  }
  return python_float(text);
}

WireAttribute encode_attribute(const AttributeValue& value) {
  if (const auto* bytes = std::get_if<Bytes>(&value)) return {"Binary", "", bytes->value};
  const auto& json_value = std::get<boost::json::value>(value);
  switch (json_value.kind()) {
    case boost::json::kind::string:
      return {"String", std::string(json_value.get_string()), std::nullopt};
    case boost::json::kind::bool_:
      return {"String.Array", json_value.get_bool() ? "true" : "false", std::nullopt};
    case boost::json::kind::null:
      return {"String.Array", "null", std::nullopt};
    case boost::json::kind::int64:
      return {"Number", std::to_string(json_value.get_int64()), std::nullopt};
    case boost::json::kind::uint64:
      return {"Number", std::to_string(json_value.get_uint64()), std::nullopt};
    case boost::json::kind::double_:
      return {"Number", json::float_repr(json_value.get_double()), std::nullopt};
    case boost::json::kind::array:
      return {"String.Array", json::dumps(json_value), std::nullopt};
    case boost::json::kind::object:
      if (json::is_big_int(json_value))
        return {"Number", std::string(json::big_int_digits(json_value)), std::nullopt};
      // Python `str(dict)`: anything that is not a str/number/bool/None/bytes/list.
      return {"String", json::python_repr(json_value), std::nullopt};
  }
  return {"String", "", std::nullopt};
}

WireAttributes encode_attributes(const MessageAttributes& attributes) {
  WireAttributes result;
  result.reserve(attributes.size());
  for (const auto& [name, value] : attributes) result.emplace_back(name, encode_attribute(value));
  return result;
}

boost::json::object body_attributes(const MessageAttributes& attributes) {
  boost::json::object result;
  for (const auto& [name, value] : attributes) {
    const auto wire = encode_attribute(value);
    result[name] = boost::json::object{
        {"Type", wire.data_type},
        {"Value",
         wire.binary_value ? encoding::base64_encode(*wire.binary_value) : wire.string_value}};
  }
  return result;
}

MessageAttributes decode_attributes(const boost::json::object& attributes) {
  MessageAttributes result;
  for (const auto& [key, item] : attributes) {
    const std::string name(key);
    if (!item.is_object()) continue;
    const auto& entry = item.as_object();
    const auto* type_value = first_of(entry, {"DataType", "Type", "dataType", "type"});
    const auto* value = first_of(
        entry, {"StringValue", "BinaryValue", "Value", "stringValue", "binaryValue", "value"});
    if (type_value == nullptr || value == nullptr || !type_value->is_string()) continue;
    const std::string_view type = type_value->get_string();
    if (type == "String") {
      result.set(name, boost::json::value(text_of(*value, name)));
    } else if (type == "Number") {
      const auto text = text_of(*value, name);
      auto number = parse_python_number(text);
      if (!number) {
        throw AttributeDecodeError("message attribute '" + name +
                                   "' of type Number has an invalid value '" + text + "'");
      }
      result.set(name, std::move(*number));
    } else if (type == "Binary") {
      const auto text = text_of(*value, name);
      auto bytes = encoding::base64_decode(text);
      if (!bytes) {
        throw AttributeDecodeError("message attribute '" + name +
                                   "' of type Binary is not valid base64");
      }
      result.set(name, Bytes{std::move(*bytes)});
    } else if (type == "String.Array") {
      const auto text = text_of(*value, name);
      std::error_code error;
      auto decoded = json::loads(text, error);
      if (error) {
        throw AttributeDecodeError("message attribute '" + name +
                                   "' of type String.Array is not valid JSON: " + error.message());
      }
      result.set(name, std::move(decoded));
    }
    // Other (custom) data types are dropped, as upstream does.
  }
  return result;
}

}  // namespace tomodachi::aws
