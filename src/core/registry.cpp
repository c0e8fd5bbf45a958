#include "core/registry.hpp"

#include <algorithm>
#include <mutex>
#include <optional>

namespace tomodachi {
namespace detail {
namespace {

struct Registry {
  std::mutex mutex;
  std::optional<std::string> loading_file;
  std::vector<ServiceClass> loading;
  std::vector<std::string> abi_errors;
  std::vector<ServiceClass> linked;
  std::vector<Service*> instances;
};

Registry& registry() {
  static Registry* instance = new Registry();
  return *instance;
}

}  // namespace

ServiceRegistrar::ServiceRegistrar(const char* class_name, ServiceFactory factory,
                                   const char* abi_tag, const char* source_file) noexcept {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  ServiceClass entry{class_name, factory, source_file ? source_file : ""};
  if (std::string_view(abi_tag) != std::string_view(library_abi_tag())) {
    r.abi_errors.push_back(std::string("service class '") + class_name + "' was built for [" +
                           abi_tag + "] but this runtime is [" + library_abi_tag() +
                           "]; rebuild it with this tomodachi");
    return;
  }
  if (r.loading_file) {
    r.loading.push_back(std::move(entry));
  } else {
    r.linked.push_back(std::move(entry));
  }
}

void begin_loading(const std::string& file) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.loading_file = file;
  r.loading.clear();
  r.abi_errors.clear();
}

std::vector<ServiceClass> end_loading() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.loading_file.reset();
  if (!r.abi_errors.empty()) {
    std::string message = r.abi_errors.front();
    r.abi_errors.clear();
    r.loading.clear();
    throw AbiMismatch(message);
  }
  return std::exchange(r.loading, {});
}

std::vector<ServiceClass> linked_classes() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  if (!r.abi_errors.empty()) throw AbiMismatch(r.abi_errors.front());
  return r.linked;
}

void register_instance(Service* service) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.instances.push_back(service);
}

void clear_instances() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.instances.clear();
}

std::vector<Service*> instances() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  return r.instances;
}

}  // namespace detail

const char* library_abi_tag() noexcept { return TOMODACHI_ABI_TAG; }

Service* get_service() {
  const auto all = detail::instances();
  return all.empty() ? nullptr : all.back();
}

Service* get_service(std::string_view name) {
  for (Service* service : detail::instances()) {
    if (service->name() == name) return service;
  }
  return nullptr;
}

std::vector<Service*> get_services() { return detail::instances(); }

}  // namespace tomodachi
