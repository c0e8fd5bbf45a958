#pragma once
/// @file
/// GCC 12 work-around for the publish functions (`amqp_publish`, `aws_sns_sqs_publish`,
/// `sqs_send_message`).
///
/// GCC 12 fails with "array used as initializer" on a `co_await` statement that holds the
/// hidden array of a `std::initializer_list`, e.g.
/// `co_await tomodachi::amqp_publish(*this, boost::json::object{{"k", "v"}}, "key");`.
/// The array belongs to the caller's statement, so no signature of the called function
/// can avoid it. With GCC < 13 the three names are therefore function-like macros that
/// evaluate the call inside a lambda (whose temporaries are not part of the coroutine's
/// statement) and return its task; the strings the call views are copied first, so
/// `routing_key`, `exchange_name`, topic, queue and FIFO ids may be temporaries as before.
/// `&tomodachi::amqp_publish` and calls through a pointer are unaffected. Define
/// `TOMODACHI_NO_GCC12_PUBLISH_WORKAROUND` to turn the macros off. The library's own
/// sources (`tomodachi_EXPORTS`) never see them. See docs/services.md, "GCC 12 coroutine
/// traps".

#include <utility>

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13 && !defined(tomodachi_EXPORTS) && \
    !defined(TOMODACHI_NO_GCC12_PUBLISH_WORKAROUND)
#define TOMODACHI_GCC12_PUBLISH_WORKAROUND 1
#else
#define TOMODACHI_GCC12_PUBLISH_WORKAROUND 0
#endif

namespace tomodachi {

/// Makes the macros' `*_gcc12(...)` call found by argument-dependent lookup, so
/// `tomodachi::amqp_publish(...)` and a `using`-declared `amqp_publish(...)` both work.
struct Gcc12Call {};

template <typename Call>
auto amqp_publish_gcc12(Gcc12Call, Call&& call) {
  return std::forward<Call>(call)();
}
template <typename Call>
auto aws_sns_sqs_publish_gcc12(Gcc12Call, Call&& call) {
  return std::forward<Call>(call)();
}
template <typename Call>
auto sqs_send_message_gcc12(Gcc12Call, Call&& call) {
  return std::forward<Call>(call)();
}

}  // namespace tomodachi
