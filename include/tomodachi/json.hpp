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

/// Parses JSON text like Python's `json.loads`: standard JSON plus `NaN`, `Infinity`,
/// `-Infinity`; duplicate keys keep the last value; integers beyond 64 bits become
/// doubles. Nesting deeper than `max_depth` is an error.
/// The result and the parser's working memory come from `storage` (default: the default
/// resource); an exception its allocation throws propagates.
boost::json::value loads(std::string_view text, std::error_code& error, std::size_t max_depth = 512,
                         boost::json::storage_ptr storage = {});

/// As above; throws std::invalid_argument with the parser's message and offset.
boost::json::value loads(std::string_view text, std::size_t max_depth = 512);

}  // namespace tomodachi::json
