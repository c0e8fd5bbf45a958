// TEMPORARY: minimal stand-ins for core runtime functions that `main` does not provide
// yet (logging, execution context, Service, transport registry, sleep), so the HTTP
// transport can be driven from gtest. Delete this file when the core runtime lands.

#include "core_stubs.hpp"

#include <tomodachi/context.hpp>
#include <tomodachi/json.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/service.hpp>
#include <tomodachi/transport.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fstream>
#include <iostream>
#include <map>
#include <mutex>

namespace tomodachi {

namespace test_stubs {
std::mutex records_mutex;
std::vector<CapturedRecord> records;
std::map<std::string, TransportFactory>& factories() {
  static std::map<std::string, TransportFactory> map;
  return map;
}
std::vector<CapturedRecord> captured() {
  std::lock_guard lock(records_mutex);
  return records;
}
void clear_captured() {
  std::lock_guard lock(records_mutex);
  records.clear();
}
TransportFactory transport_factory(const std::string& kind) { return factories().at(kind); }
}  // namespace test_stubs

namespace {
std::mutex sinks_mutex;
std::map<int, LogSink> sinks;
int next_sink = 1;
}  // namespace

ExecutionCounter::ExecutionCounter(std::string key) : key_(std::move(key)) {}
ExecutionCounter::~ExecutionCounter() = default;
void set_execution_context(const boost::json::object&) {}

Logger::Logger() : name_("default") {}
Logger::Logger(std::string name, LogFields context) : name_(std::move(name)), context_(std::move(context)) {}
bool Logger::enabled(LogLevel) const noexcept { return true; }
void Logger::log(LogLevel level, std::optional<std::string_view> message, LogFields fields) const {
  LogRecord record{std::chrono::system_clock::now(), level, name_, message, context_};
  for (auto& field : fields) record.fields.push_back(std::move(field));
  {
    std::lock_guard lock(test_stubs::records_mutex);
    test_stubs::records.push_back({name_, message ? std::string(*message) : std::string(), level, record.fields});
  }
  std::lock_guard lock(sinks_mutex);
  for (auto& [id, sink] : sinks) sink(record);
}

void log_uncaught_exception(std::exception_ptr error, LogFields fields) {
  std::string text = "unknown";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    text = e.what();
  } catch (...) {
  }
  Logger("exception").log(LogLevel::error, "uncaught exception: " + text, std::move(fields));
}

int add_log_sink(LogSink sink) {
  std::lock_guard lock(sinks_mutex);
  sinks[next_sink] = std::move(sink);
  return next_sink++;
}
void remove_log_sink(int id) {
  std::lock_guard lock(sinks_mutex);
  sinks.erase(id);
}
int add_json_file_sink(const std::filesystem::path& path, std::function<bool(const LogRecord&)> filter) {
  auto file = std::make_shared<std::ofstream>(path, std::ios::app);
  if (!*file) throw std::system_error(std::make_error_code(std::errc::permission_denied), path.string());
  return add_log_sink([file, filter](const LogRecord& record) {
    if (filter && !filter(record)) return;
    boost::json::object object;
    object["logger"] = record.logger;
    object["level"] = std::string(record.level == LogLevel::info ? "info" : "warning");
    object["message"] = record.message ? *record.message : std::string_view();
    for (const auto& field : record.fields) object[field.key] = field.value;
    *file << json::dumps(object) << "\n";
    file->flush();
  });
}

void register_transport(std::string kind, TransportFactory factory) {
  test_stubs::factories()[std::move(kind)] = std::move(factory);
}

Task<void> sleep(std::chrono::steady_clock::duration duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, duration);
  co_await timer.async_wait(boost::asio::use_awaitable);
}
Task<void> sleep(double seconds) {
  co_await sleep(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds)));
}

namespace detail {
struct ServiceState {
  std::string name;
  std::string uuid = "00000000-0000-4000-8000-000000000000";
  std::vector<std::unique_ptr<HandlerSpec>> handlers;
};
}  // namespace detail

Service::Service(std::string name) : state_(std::make_unique<detail::ServiceState>()) {
  state_->name = std::move(name);
}
Service::~Service() = default;
const std::string& Service::name() const noexcept { return state_->name; }
const std::string& Service::uuid() const noexcept { return state_->uuid; }
const std::vector<std::unique_ptr<HandlerSpec>>& Service::handlers() const noexcept { return state_->handlers; }
void Service::add_handler(std::unique_ptr<HandlerSpec> spec) { state_->handlers.push_back(std::move(spec)); }
Task<void> Service::start_service() { co_return; }
Task<void> Service::started_service() { co_return; }
Task<void> Service::stopping_service() { co_return; }
Task<void> Service::stop_service() { co_return; }

}  // namespace tomodachi
