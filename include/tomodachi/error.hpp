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
/// `OptionError`, `ScheduleError`, `EnvelopeError`, `DataError`, `ValidationError`,
/// `InternalServiceError` and its transport variants, `AmqpException`, `AwsSnsSqsException`
/// and their families. Names that Python tomodachi exports keep
/// upstream's spelling (`...Exception`); names of C++ only end in `Error`
/// (docs/development.md, "Names").

#include <stdexcept>
#include <string>

namespace tomodachi {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ~Error() override;  // key function: one type identity across the library and services
};

}  // namespace tomodachi
