#pragma once
// The records of the access log (spec/http.md §8): one per answered request, the
// protocol-error and ignored-request records, and the websocket state records.

#include "http/http_util.hpp"
#include "http/request_state.hpp"

#include <tomodachi/logging.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tomodachi::http_impl {

struct AccessLogEntry {
  int status = 0;
  std::optional<int> replaced_status;
  std::string_view remote_ip;
  std::string_view auth_user;
  std::string_view method;
  std::string_view path;
  std::string_view query_string;
  std::string_view http_version = "HTTP/1.1";
  /// Present for every response upstream knows the length of (0 included).
  std::optional<std::int64_t> response_content_length;
  std::int64_t replaced_response_content_length = 0;  ///< 0 = omitted
  std::int64_t request_content_length = 0;            ///< header value (0 = absent)
  std::int64_t request_content_read_length = 0;
  /// Without a Content-Length header, log the bytes read as `request_content_length`
  /// (upstream does, except for a body cut short).
  bool request_length_from_read = true;
  std::string_view user_agent;
  std::optional<double> handler_elapsed_seconds;
  std::optional<double> request_seconds;  ///< absent in the `ignored http request` records
};

/// The fields of one `tomodachi.http.response` record in upstream order (spec §8).
LogFields access_log_fields(const AccessLogEntry& entry);

/// `0.00135s`: seconds with five decimals and an `s`.
std::string format_seconds(double seconds);

/// The entry of one request from its state (views into `state`).
AccessLogEntry access_entry(const detail::RequestState& state,
                            std::optional<std::uint64_t> content_length);

class AccessLog {
 public:
  bool enabled = true;  ///< the `http.access_log` option

  /// The record of an answered request (unless its route ignores the status).
  void answered(const AccessLogEntry& entry, const Route* route) const;
  /// `ignored http request...`: upstream's internal 499 record, no times.
  void ignored(AccessLogEntry entry, std::string_view message) const;
  /// `client disconnected during writing`.
  void disconnected_while_writing(const detail::RequestState& state,
                                  const AccessLogEntry& entry) const;
  /// `bad http request` / `error in request handling` of an answer without a request.
  void protocol_error(std::string_view peer_ip, int status, std::int64_t length) const;
  /// `websocket_state` records: open, cancelled, error (handler logger) and closed.
  void websocket(const detail::RequestState& state, std::string_view ws_state,
                 std::optional<double> total_seconds) const;

 private:
  Logger access_logger_{"tomodachi.http.response"};
  Logger websocket_logger_{"tomodachi.http.websocket"};
};

}  // namespace tomodachi::http_impl
