#pragma once
// The management listener: one dedicated thread (the only extra thread of the health area)
// that answers the health paths on `health.host:health.port` from the registry's state, so
// livez answers even while the loop is blocked. Opened once per process, never closed.

#include <string>

namespace tomodachi::health {

struct ListenerAddress {
  std::string host;
  int port = 0;  ///< the bound port (a random one when 0 was asked for)
};

/// Binds `host:port` and starts the thread; the second call returns the first address.
/// Throws tomodachi::Error naming the address when it cannot bind.
ListenerAddress open_listener(const std::string& host, int port);

}  // namespace tomodachi::health
