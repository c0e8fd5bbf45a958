#pragma once
/// @file
/// `tomodachi::Error`: the base of the exceptions tomodachi defines.
///
/// ```cpp
/// try {
///   service.options.set("http.prot", 80);
/// } catch (const tomodachi::Error& error) {  // OptionError, ScheduleError, AmqpException, ...
///   std::cerr << error.what() << '\n';
/// }
/// ```
///
/// The exception types of the library derive from it (and so from `std::runtime_error`):
/// `OptionError`, `ScheduleError`, `ArgumentError`, `EnvelopeError`, `DataError`,
/// `ValidationError`, `InternalServiceError` and its transport variants, `AmqpException`,
/// `AwsSnsSqsException` and their families. Names that Python tomodachi exports keep upstream's
/// spelling (`...Exception`); names of C++ only end in `Error` (docs/development.md, "Names").

#include <stdexcept>
#include <string>

namespace tomodachi {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ~Error() override;  // key function: one type identity across the library and services
};

/// A value handed to the library that it cannot use, named in the message: a malformed
/// routing key, URL, JSON text or topic name, a delivery policy out of range, a message field
/// that cannot be set. Before 0.2 these were `std::invalid_argument` (a `std::logic_error`):
/// catch `tomodachi::ArgumentError` (or `tomodachi::Error`, `std::exception`) instead.
class ArgumentError : public Error {
 public:
  using Error::Error;
};

}  // namespace tomodachi
