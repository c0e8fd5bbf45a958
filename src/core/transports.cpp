#include "core/transports.hpp"

#include <map>
#include <mutex>
#include <string>

namespace tomodachi {
namespace {
struct TransportRegistry {
  std::mutex mutex;
  std::map<std::string, TransportFactory, std::less<>> factories;
};
TransportRegistry& transport_registry() {
  static auto* registry = new TransportRegistry();
  return *registry;
}
}  // namespace

void register_transport(std::string kind, TransportFactory factory) {
  auto& registry = transport_registry();
  std::lock_guard lock(registry.mutex);
  registry.factories[std::move(kind)] = std::move(factory);
}

namespace detail {
std::optional<TransportFactory> find_transport(std::string_view kind) {
  auto& registry = transport_registry();
  std::lock_guard lock(registry.mutex);
  auto it = registry.factories.find(kind);
  if (it == registry.factories.end()) return std::nullopt;
  return it->second;
}
}  // namespace detail

}  // namespace tomodachi
