// The injected publishing seam (include/tomodachi/transport/messaging.hpp): a service's own
// publisher in its ServiceState, else the process's.
#include <tomodachi/service.hpp>
#include <tomodachi/transport/messaging.hpp>

#include "core/service_state.hpp"

#include <atomic>

namespace tomodachi {
namespace {

std::atomic<Publisher*> process_wide{nullptr};

}  // namespace

Publisher::~Publisher() = default;

Publisher* injected_publisher(const Service& service) noexcept {
  // Read only: the slot of a service that publishes (publish calls take it as const).
  Publisher* own = detail::service_state(const_cast<Service&>(service)).publisher;
  return own != nullptr ? own : process_wide.load();
}

void inject_publisher(Service& service, Publisher* publisher) noexcept {
  detail::service_state(service).publisher = publisher;
}

Publisher* set_process_publisher(Publisher* publisher) noexcept {
  return process_wide.exchange(publisher);
}

Publisher* process_publisher() noexcept { return process_wide.load(); }

}  // namespace tomodachi
