// The execution context of spec/service.md §6.
#include <tomodachi/context.hpp>
#include <tomodachi/error.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <mutex>
#include <vector>

namespace tomodachi {
namespace {
struct ContextState {
  std::mutex mutex;
  boost::json::object values;
  std::vector<ExecutionCounter*> counters;
};
ContextState& context_state() {
  static auto* state = new ContextState();
  return *state;
}
}  // namespace

boost::json::object get_execution_context() {
  auto& s = context_state();
  std::lock_guard lock(s.mutex);
  boost::json::object result = s.values;
  for (const ExecutionCounter* counter : s.counters) result[counter->key()] = counter->value();
  return result;
}

void set_execution_context(const boost::json::object& values) {
  auto& s = context_state();
  std::lock_guard lock(s.mutex);
  for (const auto& member : values) s.values[member.key()] = member.value();
}

void increase_execution_context_value(std::string_view key, std::int64_t n) {
  auto& s = context_state();
  std::lock_guard lock(s.mutex);
  auto& value = s.values[key];
  if (value.is_null()) value = 0;
  if (!value.is_int64()) {
    throw ArgumentError("execution context value '" + std::string(key) + "' is not an integer");
  }
  value = value.get_int64() + n;
}

void decrease_execution_context_value(std::string_view key, std::int64_t n) {
  increase_execution_context_value(key, -n);
}

ExecutionCounter::ExecutionCounter(std::string key) : key_(std::move(key)) {
  auto& s = context_state();
  std::lock_guard lock(s.mutex);
  s.counters.push_back(this);
}

ExecutionCounter::~ExecutionCounter() {
  auto& s = context_state();
  std::lock_guard lock(s.mutex);
  s.counters.erase(std::remove(s.counters.begin(), s.counters.end(), this), s.counters.end());
}

namespace detail {
void reset_execution_context(const boost::json::object& values) {
  auto& s = context_state();
  std::lock_guard lock(s.mutex);
  s.values = values;
}
}  // namespace detail

}  // namespace tomodachi
