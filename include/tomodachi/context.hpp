#pragma once
/// @file
/// The process-wide execution context (`get_execution_context()`): versions,
/// process facts and the transports' task counters (spec/service.md §6).

#include <boost/json/object.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace tomodachi {

/// A copy of the execution context.
boost::json::object get_execution_context();

/// Sets (or replaces) keys of the execution context.
void set_execution_context(const boost::json::object& values);

/// Adds `n` to an integer key (missing keys start at 0). Throws tomodachi::ArgumentError
/// when the key holds a non-integer value.
void increase_execution_context_value(std::string_view key, std::int64_t n = 1);
void decrease_execution_context_value(std::string_view key, std::int64_t n = 1);

/// A lock-free integer shown in the execution context under `key` while it exists
/// (the transports' `*_current_tasks` / `*_total_tasks` counters).
class ExecutionCounter {
 public:
  explicit ExecutionCounter(std::string key);
  ~ExecutionCounter();
  ExecutionCounter(const ExecutionCounter&) = delete;
  ExecutionCounter& operator=(const ExecutionCounter&) = delete;

  void add(std::int64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void sub(std::int64_t n = 1) noexcept { value_.fetch_sub(n, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }
  const std::string& key() const noexcept { return key_; }

 private:
  std::string key_;
  std::atomic<std::int64_t> value_{0};
};

}  // namespace tomodachi
