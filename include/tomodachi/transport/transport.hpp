#pragma once
/// @file
/// For transport implementers: the extension point between services and transports
/// (Python's `Invoker`). Registrations are `HandlerSpec`s; each transport turns the specs
/// of one service into a running `TransportInstance` that follows the lifecycle of
/// spec/service.md §4. Service files do not need this header (<tomodachi/tomodachi.hpp>
/// does not include it); docs/development.md has the transport-writer's guide.

#include <tomodachi/detail/handler_spec.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/task.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tomodachi {

class Service;

using Deadline = std::chrono::steady_clock::time_point;

/// The running part of one transport for one service. The runtime calls the steps
/// in order; a throwing step aborts the start (exit code 1, `failed to start service`).
class TransportInstance {
 public:
  virtual ~TransportInstance() = default;

  /// Phase 1, before the `start_service` hooks (e.g. AMQP connects here).
  virtual Task<void> setup() { co_return; }
  /// Phase 2, after the start hooks: listen, declare, subscribe.
  virtual Task<void> start() = 0;
  /// After the `started_service` hooks: begin receive and schedule loops.
  virtual Task<void> started() { co_return; }
  /// Called on every transport of the process the moment a stop is requested, before
  /// any stop chain runs: stop taking new work (no new invocations, deliveries or
  /// requests). Must not block.
  virtual void stop_requested() noexcept {}
  /// Stop chain: finish in-flight work before `deadline`, then release resources.
  /// Runs before the user's `stop_service` hook, in reverse start order.
  virtual Task<void> stop(Deadline deadline) = 0;
};

/// Registers work the process must finish after every service's stop chain (and the
/// services' own stop_service hooks, which may still publish) and before it exits, e.g.
/// a publisher connection flushing unconfirmed messages. Runs concurrently with the
/// other such drains, bounded by the stop deadline. Valid for the current run of the
/// services (call it on the loop, e.g. when the connection is first opened).
void on_process_stop(std::function<Task<void>(Deadline)> drain);

/// Creates the instance of one transport for `service` from its specs of that kind
/// (registration order).
using TransportFactory = std::function<std::unique_ptr<TransportInstance>(
    Service& service, std::vector<const HandlerSpec*> specs)>;

/// Makes a transport kind known to the runtime. libtomodachi registers its own
/// transports; custom transports call this before services start.
void register_transport(std::string kind, TransportFactory factory);

/// A factory that receives its registrations as their own type `Spec`.
template <typename Spec>
using TypedTransportFactory = std::function<std::unique_ptr<TransportInstance>(
    Service& service, std::vector<const Spec*> specs)>;

namespace detail {
/// `spec` as registration type `Spec`; throws tomodachi::Error naming the handler when a
/// registration of another type was made under the kind of `Spec`.
template <typename Spec>
const Spec* spec_cast(const HandlerSpec* spec) {
  if (const auto* typed = dynamic_cast<const Spec*>(spec)) return typed;
  throw Error("handler '" + spec->name + "' is registered for transport '" + spec->transport +
              "' but is not a registration of that transport");
}
}  // namespace detail

/// Registers the transport whose identity is registration type `Spec`: its kind is
/// `Spec::kind` (the `HandlerSpec::transport` its registrations carry), and `factory` gets
/// the registrations as `Spec`s, checked once here instead of in every factory.
template <typename Spec>
void register_transport(TypedTransportFactory<Spec> factory) {
  register_transport(
      std::string(Spec::kind),
      [factory = std::move(factory)](Service& service, std::vector<const HandlerSpec*> specs) {
        std::vector<const Spec*> typed;
        typed.reserve(specs.size());
        for (const HandlerSpec* spec : specs) {
          typed.push_back(detail::spec_cast<Spec>(spec));
        }
        return factory(service, std::move(typed));
      });
}

}  // namespace tomodachi
