// TEMPORARY: minimal definitions of core functions that are declared in the public
// headers but not implemented on `main` yet (the lead's core runtime lands later).
// Linked into the messaging unit tests only; delete this file when `main` has them.
#include <tomodachi/logging.hpp>
#include <tomodachi/service.hpp>
#include <tomodachi/transport.hpp>

#include <boost/core/demangle.hpp>

#include <map>
#include <typeinfo>

namespace tomodachi {
namespace {
std::map<int, LogSink>& sinks() {
  static std::map<int, LogSink> instance;
  return instance;
}
}  // namespace

Logger::Logger() : name_("default") {}
Logger::Logger(std::string name, LogFields context) : name_(std::move(name)), context_(std::move(context)) {}

Logger Logger::bind(LogFields fields) const {
  Logger result = *this;
  for (auto& field : fields) {
    bool replaced = false;
    for (auto& existing : result.context_) {
      if (existing.key == field.key) {
        existing.value = field.value;
        replaced = true;
      }
    }
    if (!replaced) result.context_.push_back(std::move(field));
  }
  return result;
}

bool Logger::enabled(LogLevel) const noexcept { return true; }

void Logger::log(LogLevel level, std::optional<std::string_view> message, LogFields fields) const {
  LogRecord record{std::chrono::system_clock::now(), level, name_, message, context_};
  for (auto& field : fields) record.fields.push_back(std::move(field));
  for (const auto& [id, sink] : sinks()) sink(record);
}

void Logger::exception(std::string_view message, std::exception_ptr error, LogFields fields) const {
  fields.push_back({"exc_message", boost::json::string(describe_exception(error))});
  log(LogLevel::error, message, std::move(fields));
}

Logger get_logger(std::string_view name) { return Logger(name.empty() ? "default" : std::string(name)); }

std::string describe_exception(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

std::string exception_type_name(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return boost::core::demangle(typeid(e).name());
  } catch (...) {
    return "unknown";
  }
}

void log_uncaught_exception(std::exception_ptr error, LogFields fields) {
  get_logger("exception").exception("uncaught exception: " + describe_exception(error), error, std::move(fields));
}

int add_log_sink(LogSink sink) {
  static int next_id = 0;
  sinks().emplace(++next_id, std::move(sink));
  return next_id;
}

void remove_log_sink(int id) { sinks().erase(id); }

namespace detail {
struct ServiceState {
  std::string name;
  std::string uuid;
  std::vector<std::unique_ptr<HandlerSpec>> handlers;
};
}  // namespace detail

Service::Service(std::string name) : state_(std::make_unique<detail::ServiceState>()) {
  state_->name = std::move(name);
  state_->uuid = "00000000-0000-4000-8000-000000000000";
}
Service::~Service() = default;
const std::string& Service::name() const noexcept { return state_->name; }
void Service::set_name(std::string name) { state_->name = std::move(name); }
const std::string& Service::uuid() const noexcept { return state_->uuid; }
void Service::set_uuid(std::string uuid) { state_->uuid = std::move(uuid); }
Task<void> Service::start_service() { co_return; }
Task<void> Service::started_service() { co_return; }
Task<void> Service::stopping_service() { co_return; }
Task<void> Service::stop_service() { co_return; }
const std::vector<std::unique_ptr<HandlerSpec>>& Service::handlers() const noexcept { return state_->handlers; }
void Service::add_handler(std::unique_ptr<HandlerSpec> spec) { state_->handlers.push_back(std::move(spec)); }

}  // namespace tomodachi
