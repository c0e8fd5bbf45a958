#pragma once
/// @file
/// Registration plumbing: the one way a registration template (`http<&S::fn>`,
/// `websocket<&S::fn>`, `amqp<&S::fn>`, `aws_sns_sqs<&S::fn>`, `schedule<&S::fn>`, the test
/// broker's `subscribe<&S::fn>`)
/// binds member function `Fn` to the service it is registered on.

#include <tomodachi/detail/handler_name.hpp>

#include <type_traits>
#include <utility>

namespace tomodachi {

class Service;

namespace detail {

template <auto>
inline constexpr bool not_a_member_function = false;

/// The object of class `handler_class_t<Fn>` that `service` is, for calling `Fn` on it.
template <auto Fn>
decltype(auto) member_owner(Service& service) {
  if constexpr (!std::is_member_function_pointer_v<decltype(Fn)>) {
    static_assert(not_a_member_function<Fn>,
                  "tomodachi: a handler <&Class::fn> must be a pointer to a member function "
                  "(register other callables with a name, e.g. amqp(key, \"name\", callable))");
    return service;
  } else {
    using Class = handler_class_t<Fn>;
    static_assert(std::is_base_of_v<Service, Class>,
                  "tomodachi: a handler <&Class::fn> must be a member function of a class "
                  "derived from tomodachi::Service");
    return static_cast<Class&>(service);
  }
}

/// A callable that calls member `Fn` of `service` (the object registering it, which
/// outlives its registrations) with the arguments it is given. It takes exactly the
/// arguments `Fn` takes (`std::is_invocable` sees through it), so registrations can
/// choose among the signatures they accept.
template <auto Fn>
auto bind_member(Service& service) {
  auto* self = &member_owner<Fn>(service);
  return [self](auto&&... args) -> decltype((self->*Fn)(std::forward<decltype(args)>(args)...)) {
    return (self->*Fn)(std::forward<decltype(args)>(args)...);
  };
}

/// The type of `bind_member<Fn>(service)`.
template <auto Fn>
using bound_member_t = decltype(bind_member<Fn>(std::declval<Service&>()));

/// True when `Fn` is a member function of a class derived from Service. Otherwise false,
/// and member_owner's static_assert tells the user which of the two it is not. The
/// registration templates check this first, then the member's signature.
template <auto Fn>
constexpr bool check_service_member() {
  if constexpr (std::is_member_function_pointer_v<decltype(Fn)>) {
    if constexpr (std::is_base_of_v<Service, handler_class_t<Fn>>) return true;
  }
  (void)&member_owner<Fn>;  // instantiates the static_assert that names the mistake
  return false;
}

}  // namespace detail
}  // namespace tomodachi
