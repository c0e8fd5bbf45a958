#pragma once
// Which lifecycle hooks a service class overrides (for "no transport handlers defined").

#include <tomodachi/service.hpp>

namespace tomodachi::detail {

/// True when `service`'s class overrides at least one lifecycle hook.
bool overrides_any_hook(Service& service);

}  // namespace tomodachi::detail
