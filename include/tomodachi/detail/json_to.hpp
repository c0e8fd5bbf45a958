#pragma once
/// @file
/// JSON → C++ conversion for `Message::data_as<T>()`: structs described with
/// Boost.Describe (`BOOST_DESCRIBE_STRUCT`), optionals, containers and scalars, with an
/// error that names the offending field (`items[2].qty: expected an integer, got "x"`).
/// Unknown JSON keys are ignored; a missing key is an error unless the member is optional.

#include <boost/describe/members.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_to.hpp>
#include <boost/mp11/algorithm.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/json.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace tomodachi {

/// `data_as<T>()` could not convert the data: the message names the field and the reason.
class DataError : public Error {
 public:
  DataError(std::string path, const std::string& reason)
      : Error((path.empty() ? std::string("data") : "data." + path) + ": " + reason),
        path_(std::move(path)) {}
  ~DataError() override;
  /// Dotted path of the field, e.g. `items[2].qty` ("" for the whole data).
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

namespace detail {

std::string describe_json_for_error(const boost::json::value& value);

template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};

template <typename T>
struct is_vector : std::false_type {};
template <typename T, typename A>
struct is_vector<std::vector<T, A>> : std::true_type {};

template <typename T>
struct is_string_map : std::false_type {};
template <typename V, typename C, typename A>
struct is_string_map<std::map<std::string, V, C, A>> : std::true_type {};
template <typename V, typename H, typename E, typename A>
struct is_string_map<std::unordered_map<std::string, V, H, E, A>> : std::true_type {};

inline std::string join_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

[[noreturn]] inline void fail(const std::string& path, std::string_view expected,
                              const boost::json::value& got) {
  throw DataError(path,
                  "expected " + std::string(expected) + ", got " + describe_json_for_error(got));
}

template <typename T>
T json_to(const boost::json::value& value, const std::string& path);

/// Whether integral double `v` converts to T without overflow. The bounds are powers of
/// two, exact as doubles: `double(max)` is not (it rounds up to 2^63 / 2^64, and the
/// conversion of that is undefined behaviour). For 64-bit fields -2^63 is excluded too: as
/// a double it is also what out-of-range integer literals down to -2^63-1024 round to.
template <typename T>
bool double_fits(double v) noexcept {
  using Limits = std::numeric_limits<T>;
  const double bound = std::ldexp(1.0, Limits::digits);  // max + 1
  if (!(v < bound)) return false;
  if constexpr (std::is_signed_v<T>) {
    constexpr bool exact_minimum = Limits::digits < std::numeric_limits<double>::digits;
    return exact_minimum ? v >= -bound : v > -bound;
  } else {
    return v >= 0;
  }
}

template <typename T>
T integer_from(const boost::json::value& value, const std::string& path) {
  using Limits = std::numeric_limits<T>;
  if (value.is_int64()) {
    const std::int64_t v = value.get_int64();
    if constexpr (std::is_signed_v<T>) {
      if (v >= static_cast<std::int64_t>(Limits::min()) &&
          v <= static_cast<std::int64_t>(Limits::max())) {
        return static_cast<T>(v);
      }
    } else {
      if (v >= 0 && static_cast<std::uint64_t>(v) <= static_cast<std::uint64_t>(Limits::max()))
        return static_cast<T>(v);
    }
    fail(path, "an integer that fits the field", value);
  }
  if (value.is_uint64()) {
    const std::uint64_t v = value.get_uint64();
    if (v <= static_cast<std::uint64_t>(Limits::max())) return static_cast<T>(v);
    fail(path, "an integer that fits the field", value);
  }
  if (value.is_double()) {
    const double v = value.get_double();
    if (!std::isfinite(v) || std::trunc(v) != v) fail(path, "an integer", value);
    if (double_fits<T>(v)) return static_cast<T>(v);
    fail(path, "an integer that fits the field", value);
  }
  if (json::is_big_int(value)) fail(path, "an integer that fits the field", value);
  fail(path, "an integer", value);
}

template <typename T>
T described_from(const boost::json::value& value, const std::string& path) {
  const boost::json::object* object = value.if_object();
  if (object == nullptr) fail(path, "an object", value);
  T result{};
  using Members = boost::describe::describe_members<T, boost::describe::mod_public |
                                                           boost::describe::mod_inherited>;
  boost::mp11::mp_for_each<Members>([&](auto member) {
    using M = std::remove_cvref_t<decltype(result.*member.pointer)>;
    const std::string member_path = join_path(path, member.name);
    const auto it = object->find(member.name);
    if (it == object->end()) {
      if constexpr (is_optional<M>::value) {
        return;
      } else {
        throw DataError(member_path, "missing");
      }
    }
    result.*member.pointer = json_to<M>(it->value(), member_path);
  });
  return result;
}

template <typename T>
T json_to(const boost::json::value& value, const std::string& path) {
  if constexpr (std::is_same_v<T, boost::json::value>) {
    return value;
  } else if constexpr (is_optional<T>::value) {
    if (value.is_null()) return std::nullopt;
    return json_to<typename T::value_type>(value, path);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_bool()) fail(path, "true or false", value);
    return value.get_bool();
  } else if constexpr (std::is_integral_v<T>) {
    return integer_from<T>(value, path);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (json::is_big_int(value)) {  // Python's float(int): the nearest double
      return static_cast<T>(std::strtod(std::string(json::big_int_digits(value)).c_str(), nullptr));
    }
    if (!value.is_number()) fail(path, "a number", value);
    return static_cast<T>(value.to_number<double>());
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string()) fail(path, "a string", value);
    return std::string(value.get_string());
  } else if constexpr (std::is_same_v<T, boost::json::object>) {
    if (!value.is_object()) fail(path, "an object", value);
    return value.get_object();
  } else if constexpr (std::is_same_v<T, boost::json::array>) {
    if (!value.is_array()) fail(path, "an array", value);
    return value.get_array();
  } else if constexpr (is_vector<T>::value) {
    const boost::json::array* array = value.if_array();
    if (array == nullptr) fail(path, "an array", value);
    T result;
    result.reserve(array->size());
    for (std::size_t i = 0; i < array->size(); ++i) {
      result.push_back(
          json_to<typename T::value_type>((*array)[i], path + "[" + std::to_string(i) + "]"));
    }
    return result;
  } else if constexpr (is_string_map<T>::value) {
    const boost::json::object* object = value.if_object();
    if (object == nullptr) fail(path, "an object", value);
    T result;
    for (const auto& [key, item] : *object) {
      result.emplace(std::string(key),
                     json_to<typename T::mapped_type>(item, join_path(path, key)));
    }
    return result;
  } else if constexpr (boost::describe::has_describe_members<T>::value) {
    return described_from<T>(value, path);
  } else {
    auto converted = boost::json::try_value_to<T>(value);
    if (!converted)
      throw DataError(path,
                      converted.error().message() + " (" + describe_json_for_error(value) + ")");
    return std::move(*converted);
  }
}

}  // namespace detail
}  // namespace tomodachi
