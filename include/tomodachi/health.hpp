#pragma once
/// @file
/// Readiness checks of a service (docs/operations.md): `readiness_check<&S::database>("database")`
/// registers a member `Task<tomodachi::HealthCheck> database()`; while the service runs, the loop
/// calls it every second (bounded by a timeout) and `<health.path_prefix>readyz` shows its last
/// result by name. Needs `options.health.enabled = true` to be served.

#include <tomodachi/detail/bind_member.hpp>
#include <tomodachi/detail/handler_spec.hpp>
#include <tomodachi/service.hpp>
#include <tomodachi/task.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace tomodachi {

/// The result of one readiness check: `ok`, or why not (shown by readyz).
struct HealthCheck {
  bool ok = true;
  std::string reason;
};

/// The registration `readiness_check<>` produces; the health area runs it (kind "health").
struct ReadinessCheckSpec : HandlerSpec {
  static constexpr std::string_view kind = "health";
  using Check = std::function<Task<HealthCheck>()>;

  ReadinessCheckSpec(std::string check_name, Check check_function,
                     std::chrono::milliseconds check_timeout)
      : HandlerSpec(std::string(kind), std::move(check_name)),
        check(std::move(check_function)),
        timeout(check_timeout) {}

  Check check;
  std::chrono::milliseconds timeout;
};

namespace detail {
template <auto>
inline constexpr bool unsupported_readiness_check = false;
}  // namespace detail

template <auto Fn>
void Service::readiness_check(std::string name, std::chrono::milliseconds timeout) {
  if constexpr (detail::check_service_member<Fn>()) {
    using Call = detail::bound_member_t<Fn>;
    if constexpr (std::is_invocable_v<Call&>) {
      if constexpr (std::is_same_v<std::invoke_result_t<Call&>, Task<HealthCheck>>) {
        add_handler(std::make_unique<ReadinessCheckSpec>(
            std::move(name), ReadinessCheckSpec::Check(detail::bind_member<Fn>(*this)), timeout));
      } else {
        static_assert(detail::unsupported_readiness_check<Fn>,
                      "tomodachi: a readiness check is Task<tomodachi::HealthCheck> f()");
      }
    } else {
      static_assert(detail::unsupported_readiness_check<Fn>,
                    "tomodachi: a readiness check is Task<tomodachi::HealthCheck> f()");
    }
  }
}

}  // namespace tomodachi
