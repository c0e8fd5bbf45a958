#pragma once
// What the listener of one service shares with its connection sessions and websockets:
// the options read at set-up, the request pipeline, the access log and the drain state.

#include "http/access_log.hpp"
#include "http/framing.hpp"
#include "http/http_util.hpp"
#include "http/pipeline.hpp"

#include <tomodachi/context.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/options.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string>

namespace tomodachi::detail {
struct WebsocketState;
}

namespace tomodachi::http_impl {

class Connection;

/// The execution-context counters of the HTTP transport (process-wide).
struct HttpCounters {
  ExecutionCounter current{"http_current_tasks"};
  ExecutionCounter total{"http_total_tasks"};
};
HttpCounters& http_counters();

/// Limits and timeouts of every connection (options of spec/http.md §6, §7, §10).
struct SessionLimits {
  KeepAliveConfig keep_alive;
  std::int64_t client_max_size = 0;
  FramingLimits framing;  ///< request line, header section and body limits of the framer
  std::chrono::seconds header_timeout{15};
  std::chrono::seconds body_timeout{60};
  std::size_t websocket_max_message = 4194304;
  std::chrono::seconds websocket_idle_timeout{300};
  std::string server_header;
};

struct ServerState {
  explicit ServerState(Service& service) : pipeline(service) {}

  SessionLimits limits;
  Pipeline pipeline;
  AccessLog access_log;
  Logger http_logger{"tomodachi.http"};

  // Drain (spec §9): `stopping` turns keep-alive off; once `accepting_requests` is false
  // every further request is answered 503.
  bool stopping = false;
  bool accepting_requests = true;
  std::size_t active_requests = 0;  ///< heads parsed, responses not yet written
  std::list<Connection*> connections;
  /// The idle sweep (session.hpp): passes so far, the most connections seen since the last
  /// heap trim, and when that trim ran.
  std::uint64_t sweep_epoch = 0;
  std::size_t connections_peak = 0;
  std::chrono::steady_clock::time_point trimmed_at{};
  /// Where a session reads a request that nothing was buffered for (loop thread only; a
  /// session copies what the framer leaves to its own buffer before it suspends).
  std::array<char, 8192> read_scratch;
  std::list<std::shared_ptr<detail::WebsocketState>> websockets;
  /// The service's health options: with `enabled` and no `port`, the sessions answer the
  /// health paths themselves (before routing, outside the access log, spans and metrics).
  Options::Health health;
};

}  // namespace tomodachi::http_impl
