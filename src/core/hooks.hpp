#pragma once
// Which lifecycle hooks a service class overrides (for "no transport handlers defined").

#include <tomodachi/service.hpp>

namespace tomodachi::detail {

/// True when `service`'s class overrides `start_service` or `started_service`: upstream
/// starts a service without handlers only for these (a service with nothing but
/// `stopping_service` / `stop_service` is "no transport handlers defined").
bool overrides_a_start_hook(Service& service);

}  // namespace tomodachi::detail
