#include "core/hooks.hpp"

namespace tomodachi::detail {

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpmf-conversions"
namespace {
using HookFunction = Task<void> (*)(Service*);
using Hook = Task<void> (Service::*)();

// GCC's bound-member-function extension resolves the virtual call to the address of
// the function the object's class would run.
HookFunction resolve(Service& service, Hook hook) { return (HookFunction)(service.*hook); }

Service& base_probe() {
  static Service* probe = new Service("probe");
  return *probe;
}
}  // namespace

bool overrides_a_start_hook(Service& service) {
  for (Hook hook : {&Service::start_service, &Service::started_service}) {
    if (resolve(service, hook) != resolve(base_probe(), hook)) return true;
  }
  return false;
}
#pragma GCC diagnostic pop
#else
bool overrides_a_start_hook(Service&) {
  return true;
}  // assume hooks: never misreport a hook-only service
#endif

}  // namespace tomodachi::detail
