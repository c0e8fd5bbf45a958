// Access-log records in upstream's shapes (spec/http.md §8).

#include "http/access_log.hpp"

#include <algorithm>
#include <cstdio>

namespace tomodachi::http_impl {

std::string format_seconds(double seconds) {
  char buffer[48];
  int n = std::snprintf(buffer, sizeof buffer, "%.5fs", seconds < 0 ? 0.0 : seconds);
  return std::string(buffer, static_cast<std::size_t>(n));
}

LogFields access_log_fields(const AccessLogEntry& entry) {
  LogFields fields;
  fields.reserve(15);
  fields.push_back({"status_code", entry.status});
  if (entry.replaced_status) fields.push_back({"replaced_status_code", *entry.replaced_status});
  fields.push_back({"remote_ip", boost::json::string(entry.remote_ip)});
  if (!entry.auth_user.empty())
    fields.push_back({"auth_user", boost::json::string(entry.auth_user)});
  fields.push_back({"request_method", boost::json::string(entry.method)});
  fields.push_back({"request_path", boost::json::string(entry.path)});
  if (!entry.query_string.empty()) {
    fields.push_back({"request_query_string", boost::json::string(entry.query_string)});
  }
  fields.push_back({"http_version", boost::json::string(entry.http_version)});
  if (entry.response_content_length) {
    fields.push_back({"response_content_length", *entry.response_content_length});
  }
  if (entry.replaced_response_content_length) {
    fields.push_back({"replaced_response_content_length", entry.replaced_response_content_length});
  }
  std::int64_t request_length = entry.request_content_length     ? entry.request_content_length
                                : entry.request_length_from_read ? entry.request_content_read_length
                                                                 : 0;
  if (request_length) fields.push_back({"request_content_length", request_length});
  if (entry.request_content_read_length) {
    fields.push_back({"request_content_read_length", entry.request_content_read_length});
  }
  fields.push_back({"user_agent", boost::json::string(entry.user_agent)});
  if (entry.handler_elapsed_seconds) {
    fields.push_back({"handler_elapsed_time",
                      boost::json::string(format_seconds(*entry.handler_elapsed_seconds))});
  }
  if (entry.request_seconds) {
    fields.push_back({"request_time", boost::json::string(format_seconds(*entry.request_seconds))});
  }
  return fields;
}

namespace {
std::string_view header_value(const RequestMessage* message, boost::beast::http::field name) {
  if (!message) return {};
  auto it = message->find(name);
  if (it == message->end()) return {};
  return std::string_view(it->value().data(), it->value().size());
}
}  // namespace

AccessLogEntry access_entry(const detail::RequestState& state,
                            std::optional<std::uint64_t> content_length) {
  AccessLogEntry entry;
  entry.remote_ip = state.remote_ip;
  entry.auth_user = state.auth_user;
  entry.method = state.method;
  entry.path = state.path;
  entry.query_string = state.query;
  entry.http_version = state.version;
  entry.user_agent = header_value(state.message, boost::beast::http::field::user_agent);
  if (content_length) entry.request_content_length = static_cast<std::int64_t>(*content_length);
  return entry;
}

void AccessLog::answered(const AccessLogEntry& entry, const Route* route) const {
  if (!enabled) return;
  if (route && route->logging) {
    if (route->logging->ignore) return;
    const auto& statuses = route->logging->ignore_statuses;
    if (std::find(statuses.begin(), statuses.end(), entry.status) != statuses.end()) return;
  }
  if (!access_logger_.enabled(LogLevel::info)) return;
  access_logger_.info("", access_log_fields(entry));
}

void AccessLog::ignored(AccessLogEntry entry, std::string_view message) const {
  if (!enabled) return;
  entry.status = 499;
  entry.response_content_length = 0;
  access_logger_.info(message, access_log_fields(entry));
}

void AccessLog::disconnected_while_writing(const detail::RequestState& state,
                                           const AccessLogEntry& entry) const {
  if (!enabled) return;
  // Upstream's fields for this record (its handle_error): no lengths but the declared one.
  LogFields fields{{"status_code", 499}, {"remote_ip", boost::json::string(state.remote_ip)}};
  if (!state.auth_user.empty())
    fields.push_back({"auth_user", boost::json::string(state.auth_user)});
  fields.push_back({"request_method", boost::json::string(state.method)});
  fields.push_back({"request_path", boost::json::string(state.path)});
  if (!state.query.empty())
    fields.push_back({"request_query_string", boost::json::string(state.query)});
  fields.push_back({"http_version", boost::json::string(state.version)});
  if (entry.request_content_length)
    fields.push_back({"request_content_length", entry.request_content_length});
  fields.push_back({"user_agent", boost::json::string(entry.user_agent)});
  access_logger_.info("client disconnected during writing", std::move(fields));
}

void AccessLog::protocol_error(std::string_view peer_ip, int status, std::int64_t length) const {
  if (!enabled) return;
  LogFields fields{{"status_code", status}, {"remote_ip", boost::json::string(peer_ip)}};
  if (status == 408) {
    access_logger_.info("bad http request", std::move(fields));
    return;
  }
  fields.push_back({"response_content_length", length});
  if (status >= 500) {
    access_logger_.warning("error in request handling", std::move(fields));
  } else {
    access_logger_.info("bad http request", std::move(fields));
  }
}

void AccessLog::websocket(const detail::RequestState& state, std::string_view ws_state,
                          std::optional<double> total_seconds) const {
  if (!enabled) return;
  LogFields fields{{"websocket_state", boost::json::string(ws_state)},
                   {"remote_ip", boost::json::string(state.remote_ip)}};
  if (!state.auth_user.empty())
    fields.push_back({"auth_user", boost::json::string(state.auth_user)});
  fields.push_back({"request_path", boost::json::string(state.path)});
  if (!state.query.empty())
    fields.push_back({"request_query_string", boost::json::string(state.query)});
  fields.push_back({"websocket_id", boost::json::string(state.websocket_id)});
  fields.push_back({"user_agent", boost::json::string(header_value(
                                      state.message, boost::beast::http::field::user_agent))});
  if (total_seconds)
    fields.push_back({"total_request_time", boost::json::string(format_seconds(*total_seconds))});
  // As upstream: `closed` comes from the request's access-log record (logger
  // tomodachi.http.response, so it also reaches the access-log file); open, cancelled and
  // error from the websocket handler (tomodachi.http.websocket).
  if (ws_state == "closed") {
    access_logger_.info("", std::move(fields));
  } else {
    websocket_logger_.info("", std::move(fields));
  }
}

}  // namespace tomodachi::http_impl
