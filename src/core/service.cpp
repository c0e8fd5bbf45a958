#include "core/encoding.hpp"
#include "core/service_state.hpp"

#include <tomodachi/service.hpp>
#include <tomodachi/transport/transport.hpp>

namespace tomodachi {

Service::Service(std::string name) : state_(std::make_unique<detail::ServiceState>()) {
  state_->name = std::move(name);
  state_->uuid = encoding::uuid4();
}

Service::~Service() = default;

const std::string& Service::name() const noexcept { return state_->name; }
void Service::set_name(std::string name) { state_->name = std::move(name); }
const std::string& Service::uuid() const noexcept { return state_->uuid; }
void Service::set_uuid(std::string uuid) { state_->uuid = std::move(uuid); }
const boost::json::object& Service::config() const noexcept { return state_->config; }
const std::string& Service::source_file() const noexcept { return state_->source_file; }

Task<void> Service::start_service() { co_return; }
Task<void> Service::started_service() { co_return; }
Task<void> Service::stopping_service() { co_return; }
Task<void> Service::stop_service() { co_return; }

Logger Service::logger() const {
  if (state_->current_hook) {
    return Logger("tomodachi.lifecycle.handler", {{"handler", state_->current_hook->handler},
                                                  {"type", "tomodachi.event"},
                                                  {"event", state_->current_hook->event},
                                                  {"service", name()}});
  }
  return Logger("tomodachi.service", {{"service", name()}});
}

const std::vector<std::unique_ptr<HandlerSpec>>& Service::handlers() const noexcept {
  return state_->handlers;
}

void Service::add_handler(std::unique_ptr<HandlerSpec> spec) {
  state_->handlers.push_back(std::move(spec));
}

}  // namespace tomodachi
