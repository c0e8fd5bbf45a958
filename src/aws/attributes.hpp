#pragma once
// SNS/SQS message attributes on the wire (spec/wire.md §3.10): the typing of outgoing
// values exactly as Python tomodachi does it (String, Number with Python `str()` text,
// String.Array for lists, booleans and null, Binary for bytes), the `{Type, Value}` form
// embedded in SQS direct-send bodies, and the decoding of received attributes in SQS,
// SNS-body and Lambda camelCase style.

#include "aws/api.hpp"

#include <tomodachi/error.hpp>
#include <tomodachi/message_attributes.hpp>

#include <boost/json/object.hpp>

#include <stdexcept>
#include <string>

namespace tomodachi::aws {

/// A received attribute that cannot be decoded (bad Number text, invalid String.Array
/// JSON, bad base64); the text names the attribute.
class AttributeDecodeError : public ArgumentError {
 public:
  using ArgumentError::ArgumentError;
};

/// One value as SNS.Publish / SQS.SendMessage carry it.
WireAttribute encode_attribute(const AttributeValue& value);

/// All of `attributes`, in their order.
WireAttributes encode_attributes(const MessageAttributes& attributes);

/// `{"<name>": {"Type": "...", "Value": "..."}}` (binary values as base64), the
/// `MessageAttributes` of an SQS direct-send body.
boost::json::object body_attributes(const MessageAttributes& attributes);

/// Decodes received attributes: type from the first present of `DataType`, `Type`,
/// `dataType`, `type`; value from the first present of `StringValue`, `BinaryValue`,
/// `Value`, `stringValue`, `binaryValue`, `value`. Entries lacking either, and custom
/// types (`String.x`, `Number.x`, ...), are skipped. `Number` text is an int when it is
/// one (Python `int()` rules; beyond 64 bits a double), else a float (Python `float()`
/// rules, so `1e+20` and `nan` decode too). Throws AttributeDecodeError.
MessageAttributes decode_attributes(const boost::json::object& attributes);

/// Python `int()` / `float()` of Number text; nullopt when it is neither.
std::optional<boost::json::value> parse_python_number(std::string_view text);

}  // namespace tomodachi::aws
