#pragma once
// Waits on observable conditions instead of fixed sleeps: a bounded poll that returns as
// soon as the condition holds (the caller ASSERTs the result), and conditions read from the
// kernel's view of this process's own server sockets (/proc/net/tcp, /proc/net/tcp6).

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace http_test {

/// Polls `predicate` until it holds (true) or `timeout` passed (false, after one last look).
template <typename Predicate>
[[nodiscard]] bool wait_until(Predicate predicate,
                              std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= until) return predicate();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

/// The kernel's sockets whose local port is `port`: state (hex, 0A = LISTEN) and rx_queue
/// (for a listener: connections not yet accepted; otherwise: bytes the process did not read).
struct LocalSocket {
  int state = 0;
  unsigned long rx_queue = 0;
};

template <typename Visit>
void for_each_local_socket(int port, Visit visit) {
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues;
      fields >> slot >> local >> remote >> state >> queues;
      auto colon = local.rfind(':');
      if (colon == std::string::npos || std::stoi(local.substr(colon + 1), nullptr, 16) != port)
        continue;
      auto queue_colon = queues.find(':');
      visit(LocalSocket{std::stoi(state, nullptr, 16),
                        std::stoul(queues.substr(queue_colon + 1), nullptr, 16)});
    }
  }
}

/// True when the server on `port` accepted every connection made to it and read every byte
/// sent so far (its listener's accept queue and its connections' receive queues are empty).
inline bool server_took_everything_in(int port) {
  bool empty = true;
  for_each_local_socket(port, [&](const LocalSocket& socket) { empty &= socket.rx_queue == 0; });
  return empty;
}

/// True when no connection to the server on `port` is open on the server's side any more
/// (only its listener and connections it closed remain): what an earlier request logs at
/// its connection's end has been logged.
inline bool server_connections_closed(int port) {
  bool closed = true;
  for_each_local_socket(port, [&](const LocalSocket& socket) {
    // ESTABLISHED, FIN_WAIT1, FIN_WAIT2 (half-closed, still read), CLOSE_WAIT, CLOSING
    closed &= !(socket.state == 0x01 || socket.state == 0x04 || socket.state == 0x05 ||
                socket.state == 0x08 || socket.state == 0x0B);
  });
  return closed;
}

/// True while something listens on `port`.
inline bool listening_on(int port) {
  bool listening = false;
  for_each_local_socket(port,
                        [&](const LocalSocket& socket) { listening |= socket.state == 0x0A; });
  return listening;
}

}  // namespace http_test
