#pragma once
/// @file
/// Message middleware (spec/service.md §7): functions wrapped around every AMQP and
/// SNS/SQS handler of a service, first in `Service::message_middleware` = outermost.
///
/// A middleware receives the message, a per-message context shared by the whole chain,
/// and `next`, which runs the rest of the chain and the handler:
///
/// ```cpp
/// message_middleware.push_back(
///     [](tomodachi::Message& message, tomodachi::MiddlewareContext& context,
///        const tomodachi::MessageNext& next) -> tomodachi::Task<void> {
///       message.set("received_by", "audit");  // a value for later middleware and the handler
///       co_await next();                       // not calling it skips the handler (success)
///     });
/// ```
///
/// An exception escaping the chain is the handler's failure: the subscription's delivery
/// policy decides what happens to the message. A middleware that catches it makes the
/// message count as handled.

#include <tomodachi/task.hpp>

#include <functional>

namespace tomodachi {

class Message;
class MiddlewareContext;

/// Runs the rest of the chain (the next middleware, finally the handler).
using MessageNext = std::function<Task<void>()>;

/// One message middleware.
using MessageMiddleware = std::function<Task<void>(Message& message, MiddlewareContext& context,
                                                   const MessageNext& next)>;

}  // namespace tomodachi
