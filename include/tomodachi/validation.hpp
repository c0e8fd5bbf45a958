#pragma once
/// @file
/// Field validation helpers, as Python tomodachi's `tomodachi.validation`: check a value
/// against a regular expression or a length range and throw a typed exception whose
/// message says which value failed and why. Useful in handlers and in a ProtobufBase
/// `validator`.

#include <tomodachi/error.hpp>

#include <boost/json/fwd.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace tomodachi {

/// Base of the validation exceptions (a C++ name: upstream's three derive from Exception).
class ValidationError : public Error {
 public:
  using Error::Error;
};
/// The name before 0.2 (a C++-only name ends in `Error`: docs/development.md, "Names").
using ValidationException [[deprecated("use tomodachi::ValidationError")]] = ValidationError;

/// A value did not match its pattern. `what()`:
/// `RegexMissmatchException: value "<value>" does not match pattern "<pattern>"`
/// (the spelling is upstream's).
class RegexMissmatchException : public ValidationError {
 public:
  RegexMissmatchException(std::string_view value, std::string_view pattern);
};

/// A value is shorter than its minimum length.
/// `what()`: `TooSmallException: "<value>" is not at least of length <min>`.
class TooSmallException : public ValidationError {
 public:
  TooSmallException(std::string_view shown_value, std::ptrdiff_t min_length);
};

/// A value is longer than its maximum length.
/// `what()`: `TooLargeException: "<value>" length is larger than <max>`.
class TooLargeException : public ValidationError {
 public:
  TooLargeException(std::string_view shown_value, std::ptrdiff_t max_length);
};

/// Throws RegexMissmatchException unless `pattern` matches a prefix of `value` (Python
/// `re.match`: anchored at the start only; add `$` to match the whole value). The pattern
/// is RE2 syntax, which accepts Python's named groups; a pattern RE2 cannot compile throws
/// tomodachi::ArgumentError naming it. Compiled patterns are cached per thread.
void validate_field_regex(std::string_view value, std::string_view pattern);

/// Throws TooSmallException / TooLargeException when `value`'s length in characters
/// (Unicode code points of the UTF-8 text, as Python's `len(str)`) is outside
/// [min_length, max_length]; a bound of -1 is not checked.
void validate_field_length(std::string_view value, std::ptrdiff_t min_length = -1,
                           std::ptrdiff_t max_length = -1);

/// The same for a JSON value: a string by its characters, an array or object by its number
/// of items. The message shows the value as Python would print it in JSON form. Other
/// kinds (numbers, bool, null) have no length: tomodachi::ArgumentError.
void validate_field_length(const boost::json::value& value, std::ptrdiff_t min_length = -1,
                           std::ptrdiff_t max_length = -1);

/// Text overloads (a literal or std::string would otherwise fit both of the above).
inline void validate_field_length(const char* value, std::ptrdiff_t min_length = -1,
                                  std::ptrdiff_t max_length = -1) {
  validate_field_length(std::string_view(value), min_length, max_length);
}
inline void validate_field_length(const std::string& value, std::ptrdiff_t min_length = -1,
                                  std::ptrdiff_t max_length = -1) {
  validate_field_length(std::string_view(value), min_length, max_length);
}

}  // namespace tomodachi
