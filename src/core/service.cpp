#include "core/encoding.hpp"
#include "core/launcher.hpp"
#include "core/registry.hpp"
#include "core/service_state.hpp"

#include <cctype>
#include <filesystem>
#include <tomodachi/service.hpp>
#include <tomodachi/transport/transport.hpp>

#include <algorithm>
#include <cstdio>

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

namespace detail {

std::string file_module(const std::string& file_path) {
  return std::filesystem::path(file_path).stem().string();
}

/// Name for a service without one (spec/service.md §3): kebab-case class name,
/// prefixed by the file's stem unless it is a conventional entry file name.
std::string derived_service_name(const std::string& class_name, const std::string& file_path) {
  std::string kebab;
  for (std::size_t i = 0; i < class_name.size(); ++i) {
    const char c = class_name[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (i > 0 && !kebab.empty() && kebab.back() != '-') kebab += '-';
      kebab += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (c == '_' || c == ':') {
      if (!kebab.empty() && kebab.back() != '-') kebab += '-';
    } else {
      kebab += c;
    }
  }
  if (kebab == "app") kebab = "service";
  static const char* plain_modules[] = {"service", "services", "app",  "apps",  "src", "code",
                                        "example", "examples", "test", "tests", "main"};
  const std::string module = file_module(file_path);
  const bool plain = std::find(std::begin(plain_modules), std::end(plain_modules), module) !=
                     std::end(plain_modules);
  return plain || module.empty() ? kebab : module + "-" + kebab;
}

void apply_config(Service& service, const boost::json::object& config) {
  detail::service_state(service).config = config;
  if (auto it = config.find("uuid"); it != config.end() && !it->value().is_null()) {
    if (!it->value().is_string()) throw OptionError("config key 'uuid' must be a string");
    service.set_uuid(std::string(it->value().get_string()));
  }
  if (auto it = config.find("name"); it != config.end() && !it->value().is_null()) {
    if (!it->value().is_string()) throw OptionError("config key 'name' must be a string");
    service.set_name(std::string(it->value().get_string()));
  }
  if (auto it = config.find("options"); it != config.end()) {
    if (!it->value().is_object()) throw OptionError("config key 'options' must be an object");
    service.options = Options::from_json(it->value().get_object());  // replaces, as upstream
  }
}

namespace {
/// `<base>-NNNN`: a service renamed for a clash with `base`.
bool is_numbered_copy(const std::string& name, const std::string& base) {
  if (name.size() != base.size() + 5 || name.compare(0, base.size(), base) != 0 ||
      name[base.size()] != '-') {
    return false;
  }
  return std::all_of(name.end() - 4, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

void register_with_unique_name(Service& service) {
  const std::string base = service.name();
  int count = 0;
  Service* first_holder = nullptr;
  for (Service* other : instances()) {
    const std::string& other_name = other->name();
    if (other_name == base) {
      first_holder = other;
      ++count;
    } else if (is_numbered_copy(other_name, base)) {
      ++count;
    }
  }
  if (count > 0) {
    if (first_holder) first_holder->set_name(base + "-0001");
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, "-%04d", std::min(count + 1, 9999));
    service.set_name(base + suffix);
  }
  register_instance(&service);
}

}  // namespace detail

}  // namespace tomodachi
