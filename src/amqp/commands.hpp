#pragma once
// The commands the service loop sends to a connection's I/O thread (command_queue.hpp), and
// how their outcomes get back: completion handlers posted to the loop.

#include "amqp/connection.hpp"
#include "amqp/topology.hpp"

#include <boost/asio/any_completion_handler.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tomodachi::amqp_impl {

using Clock = Connection::Clock;

/// boost::asio::any_completion_handler with a move assignment that works: Boost 1.81's
/// passes `other` as an lvalue to its converting constructor, which wraps the handler in
/// itself without end (a stack overflow; fixed in Boost 1.82). Handlers are move-assigned
/// when a job or publish is erased from the middle of a deque.
template <typename Signature>
class CompletionHandler : public boost::asio::any_completion_handler<Signature> {
  using Base = boost::asio::any_completion_handler<Signature>;

 public:
  using Base::Base;
  CompletionHandler(CompletionHandler&&) noexcept = default;
  CompletionHandler& operator=(CompletionHandler&& other) noexcept {
    Base(static_cast<Base&&>(other)).swap(*this);
    return *this;
  }
};

using VoidHandler = CompletionHandler<void(std::exception_ptr)>;
using StepHandler = CompletionHandler<void(std::exception_ptr, StepResult)>;

/// Who is told a publish's outcome: an awaiting coroutine, a detached publish's callback, or
/// nobody (then a failure is logged).
struct PublishCompletion {
  std::optional<VoidHandler> handler;
  std::function<void(std::exception_ptr)> callback;
};

struct PendingPublish {
  OutgoingMessage message;
  Clock::time_point deadline;
  PublishCompletion completion;
  std::optional<std::string> returned;  ///< basic.return received: "312 NO_ROUTE"
};

struct ConnectCommand {
  VoidHandler handler;
  Clock::time_point deadline;  ///< the first connect gives up here (a publish's timeout)
};
struct ExecuteCommand {
  TopologyStep step;
  StepHandler handler;
};
struct PublishCommand {
  PendingPublish publish;
};
struct AckCommand {
  std::uint64_t epoch;
  std::uint64_t delivery_tag;
  bool ack;
  bool requeue;
};
struct CancelCommand {
  std::vector<std::uint32_t> consumer_ids;
  VoidHandler handler;
};
struct CloseCommand {
  Clock::time_point deadline;
  std::function<void()> closed;  ///< posted to the loop once closed (none from the destructor)
  bool exit_thread = false;      ///< from the destructor: the I/O thread ends after closing
};
struct NetworkFailureCommand {};

using Command = std::variant<ConnectCommand, ExecuteCommand, PublishCommand, AckCommand,
                             CancelCommand, CloseCommand, NetworkFailureCommand>;

}  // namespace tomodachi::amqp_impl
