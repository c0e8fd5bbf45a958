#pragma once
// Opening and closing one AMQP connection with rabbitmq-c: socket (TCP or TLS), login with
// the client properties upstream's peers expect, the three channels (DESIGN.md §2), confirm
// mode on the publish channel, and a write timeout for dead peers.

#include "amqp/connection.hpp"

#include <amqp.h>

#include <chrono>
#include <string>

namespace tomodachi::amqp_impl {

/// A connection ready for use, or nullptr with `reason` set ("connection refused",
/// "ACCESS_REFUSED - Login was refused ...").
amqp_connection_state_t open_connection(const ConnectionSettings& settings,
                                        std::chrono::milliseconds connect_timeout,
                                        std::string& reason);

/// connection.close, its reply awaited at most `rpc_timeout` (logged when unanswered). The
/// caller destroys the connection afterwards.
void close_connection(amqp_connection_state_t conn, std::chrono::milliseconds rpc_timeout,
                      const std::string& address);

}  // namespace tomodachi::amqp_impl
