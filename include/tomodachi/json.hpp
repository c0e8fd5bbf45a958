#pragma once
/// @file
/// JSON text exactly as Python's `json.dumps` writes it (separators `", "` / `": "`,
/// `ensure_ascii` escapes, Python float repr, `NaN`/`Infinity`), and a parser that
/// accepts everything Python's `json.loads` accepts. Python services see identical
/// bytes, and size thresholds (the 60000-character envelope rule) count the same.

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <system_error>

namespace tomodachi::json {

/// `json.dumps(value)` with default arguments.
std::string dumps(const boost::json::value& value);

/// Appends `json.dumps(value)` to `out`.
void dumps_to(std::string& out, const boost::json::value& value);

/// Python `repr(float)`: `1.5`, `1e+16`, `1000000000000000.0`, `1e-05`, `-0.0`,
/// `nan`/`inf` as Python prints them (`json.dumps` uses `NaN`/`Infinity` instead).
std::string float_repr(double value);

/// Python `repr()` of a JSON value as the console logger prints it:
/// `{'key': 'value', 'n': 1, 'ok': True, 'none': None}`.
std::string python_repr(const boost::json::value& value);

/// Integers beyond 64 bits (Python ints are unbounded; Boost.JSON stops at int64/uint64).
/// Such a value is held exactly as a one-member object `{big_int_key: "<digits>"}`:
/// `dumps` and `python_repr` write the bare digits, `loads` produces it for integer
/// literals outside int64/uint64, so they pass through a C++ service byte for byte.
inline constexpr std::string_view big_int_key{"\0tomodachi.big_int", 18};

/// A big integer from its decimal digits (optional leading `-`); throws
/// tomodachi::ArgumentError for anything else. Values within int64/uint64 come back as
/// plain int64/uint64 values.
boost::json::value big_int(std::string_view digits);

/// True when `value` is a big integer made by big_int() or loads().
bool is_big_int(const boost::json::value& value) noexcept;

/// The decimal digits of a big integer (is_big_int(value) must be true).
std::string_view big_int_digits(const boost::json::value& value);

/// Parses JSON text like Python's `json.loads`: standard JSON plus `NaN`, `Infinity`,
/// `-Infinity`; duplicate keys keep the last value; integers beyond 64 bits become
/// big integers (see big_int). Nesting deeper than `max_depth` is an error.
/// The result and the parser's working memory come from `storage` (default: the default
/// resource); an exception its allocation throws propagates.
boost::json::value loads(std::string_view text, std::error_code& error, std::size_t max_depth = 512,
                         boost::json::storage_ptr storage = {});

/// As above; throws tomodachi::ArgumentError with the parser's message and offset.
boost::json::value loads(std::string_view text, std::size_t max_depth = 512);

}  // namespace tomodachi::json
