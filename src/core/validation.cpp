#include "core/encoding.hpp"

#include <tomodachi/json.hpp>
#include <tomodachi/validation.hpp>

#include <re2/re2.h>
#include <boost/json/value.hpp>

#include <memory>
#include <string>
#include <unordered_map>

namespace tomodachi {
namespace {

std::string regex_mismatch_text(std::string_view value, std::string_view pattern) {
  std::string text = "RegexMissmatchException: value \"";
  text.append(value).append("\" does not match pattern \"").append(pattern).append("\"");
  return text;
}

std::string too_small_text(std::string_view shown_value, std::ptrdiff_t min_length) {
  std::string text = "TooSmallException: \"";
  text.append(shown_value)
      .append("\" is not at least of length ")
      .append(std::to_string(min_length));
  return text;
}

std::string too_large_text(std::string_view shown_value, std::ptrdiff_t max_length) {
  std::string text = "TooLargeException: \"";
  text.append(shown_value).append("\" length is larger than ").append(std::to_string(max_length));
  return text;
}

const RE2& compiled_pattern(std::string_view pattern) {
  // Few distinct patterns per service; bounded so generated patterns cannot grow it forever.
  constexpr std::size_t max_cached_patterns = 256;
  thread_local std::unordered_map<std::string, std::unique_ptr<RE2>> cache;
  const std::string key(pattern);
  if (const auto found = cache.find(key); found != cache.end()) {
    return *found->second;
  }
  RE2::Options options;
  options.set_log_errors(false);
  auto regex = std::make_unique<RE2>(key, options);
  if (!regex->ok()) {
    throw ArgumentError("invalid validation pattern '" + key + "': " + regex->error());
  }
  if (cache.size() >= max_cached_patterns) {
    cache.clear();
  }
  return *cache.emplace(key, std::move(regex)).first->second;
}

void check_length(std::ptrdiff_t length, std::string_view shown_value, std::ptrdiff_t min_length,
                  std::ptrdiff_t max_length) {
  if (min_length != -1 && length < min_length) {
    throw TooSmallException(shown_value, min_length);
  }
  if (max_length != -1 && length > max_length) {
    throw TooLargeException(shown_value, max_length);
  }
}

}  // namespace

RegexMissmatchException::RegexMissmatchException(std::string_view value, std::string_view pattern)
    : ValidationError(regex_mismatch_text(value, pattern)) {}

TooSmallException::TooSmallException(std::string_view shown_value, std::ptrdiff_t min_length)
    : ValidationError(too_small_text(shown_value, min_length)) {}

TooLargeException::TooLargeException(std::string_view shown_value, std::ptrdiff_t max_length)
    : ValidationError(too_large_text(shown_value, max_length)) {}

void validate_field_regex(std::string_view value, std::string_view pattern) {
  const RE2& regex = compiled_pattern(pattern);
  const re2::StringPiece text(value.data(), value.size());
  if (!regex.Match(text, 0, text.size(), RE2::ANCHOR_START, nullptr, 0)) {
    throw RegexMissmatchException(value, pattern);
  }
}

void validate_field_length(std::string_view value, std::ptrdiff_t min_length,
                           std::ptrdiff_t max_length) {
  check_length(static_cast<std::ptrdiff_t>(encoding::code_point_count(value)), value, min_length,
               max_length);
}

void validate_field_length(const boost::json::value& value, std::ptrdiff_t min_length,
                           std::ptrdiff_t max_length) {
  if (const auto* text = value.if_string()) {
    validate_field_length(std::string_view(*text), min_length, max_length);
    return;
  }
  std::ptrdiff_t length = 0;
  if (const auto* array = value.if_array()) {
    length = static_cast<std::ptrdiff_t>(array->size());
  } else if (const auto* object = value.if_object()) {
    length = static_cast<std::ptrdiff_t>(object->size());
  } else {
    throw ArgumentError("validate_field_length: a " + std::string(to_string(value.kind())) +
                        " value has no length");
  }
  const bool within =
      (min_length == -1 || length >= min_length) && (max_length == -1 || length <= max_length);
  if (!within) {
    check_length(length, json::dumps(value), min_length, max_length);
  }
}

}  // namespace tomodachi
