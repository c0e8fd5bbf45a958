#pragma once
// What the launcher (src/core/launcher.cpp) tells the health area: a run begins, a service
// file's services were constructed (options final: validate, start the heartbeat, open the
// management listener), a file's services started, the stop began (readiness fails), and
// the drain delay before the stop sequence.

#include <tomodachi/task.hpp>

#include <cstddef>

namespace tomodachi {
class Service;
}

namespace tomodachi::health {

/// A new run of `containers` service files (on the loop, before any starts).
void begin_run(std::size_t containers);

/// `service` was constructed and configured, before its transports' setup and start hooks.
/// With `health.enabled`: validates the health options (OptionError naming the value), starts
/// the loop heartbeat and, with `health.port`, opens the management listener.
void service_loaded(Service& service);

/// Every service of one file started (start hooks, transports, topology).
void container_started();

/// The stop was requested: readyz answers 503 from now on.
void begin_drain();

/// Waits until `health.drain_delay` passed since begin_drain (at once without health).
Task<void> drain_delay();

}  // namespace tomodachi::health
