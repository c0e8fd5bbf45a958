#pragma once
/// @file
/// SNS/SQS message attributes as tomodachi handlers see them: an insertion-ordered map
/// (a Python dict) from name to a JSON value (`String`, `Number`, `String.Array`) or to
/// bytes (`Binary`). The AWS transport encodes and decodes them (spec/wire.md §3.10);
/// envelopes may add attributes when building a payload.

#include <tomodachi/bytes.hpp>

#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tomodachi {

/// The value of one message attribute.
using AttributeValue = std::variant<boost::json::value, Bytes>;

/// Message attributes in insertion order. Setting an existing name replaces its value
/// in place, as assigning a key of a Python dict does.
class MessageAttributes {
 public:
  using Entry = std::pair<std::string, AttributeValue>;
  using const_iterator = std::vector<Entry>::const_iterator;

  MessageAttributes() = default;
  MessageAttributes(std::initializer_list<Entry> entries) {
    for (const auto& entry : entries) set(entry.first, entry.second);
  }

  /// Adds `name` or replaces its value.
  void set(std::string name, AttributeValue value) {
    for (auto& entry : entries_) {
      if (entry.first == name) {
        entry.second = std::move(value);
        return;
      }
    }
    entries_.emplace_back(std::move(name), std::move(value));
  }

  /// The value of `name`, or null when absent.
  const AttributeValue* find(std::string_view name) const noexcept {
    for (const auto& entry : entries_) {
      if (entry.first == name) return &entry.second;
    }
    return nullptr;
  }

  /// The JSON value of `name`; null when absent or binary.
  const boost::json::value& json(std::string_view name) const noexcept {
    static const boost::json::value null_value;
    const AttributeValue* value = find(name);
    if (value == nullptr) return null_value;
    const auto* json_value = std::get_if<boost::json::value>(value);
    return json_value != nullptr ? *json_value : null_value;
  }

  bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }

  /// Removes `name`; returns whether it was present.
  bool erase(std::string_view name) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first == name) {
        entries_.erase(it);
        return true;
      }
    }
    return false;
  }

  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  const_iterator begin() const noexcept { return entries_.begin(); }
  const_iterator end() const noexcept { return entries_.end(); }

  friend bool operator==(const MessageAttributes&, const MessageAttributes&) = default;

 private:
  std::vector<Entry> entries_;
};

}  // namespace tomodachi
