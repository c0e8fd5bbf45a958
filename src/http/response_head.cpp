// Response heads as bytes (spec/http.md §4, §6).

#include "http/response_head.hpp"

#include <charconv>
#include <ctime>

namespace tomodachi::http_impl {

std::string_view http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local char buffer[64];
  thread_local std::size_t length = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_second = now;
    std::tm tm{};
    gmtime_r(&now, &tm);
    length = std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  }
  return {buffer, length};
}

bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= 32 || c >= 127 || c == ':' || c == '(' || c == ')' || c == ',' || c == ';' ||
        c == '<' || c == '>' || c == '@' || c == '[' || c == ']' || c == '\\' || c == '"' ||
        c == '/' || c == '?' || c == '=' || c == '{' || c == '}') {
      return false;
    }
  }
  return true;
}

bool valid_header_value(std::string_view value) {
  return value.find_first_of("\r\n", 0) == std::string_view::npos &&
         value.find('\0') == std::string_view::npos;
}

void begin_head(std::string& out, std::string_view version, int status, std::string_view reason,
                std::string_view server) {
  out.clear();
  out += version;
  out += ' ';
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, status).ptr);
  out += ' ';
  out += reason;
  out += "\r\nServer: ";
  out += server;
  out += "\r\nDate: ";
  out += http_date();
  out += "\r\n";
}

void end_head(std::string& out, const KeepAliveDecision& keep_alive, bool force_close) {
  if (keep_alive.keep_alive && !force_close) {
    out += "Connection: keep-alive\r\nKeep-Alive: ";
    out += keep_alive.keep_alive_header;
    out += "\r\n\r\n";
  } else {
    out += "Connection: close\r\n\r\n";
  }
}

std::string_view format_response(std::string& out, std::string_view version,
                                 std::string_view server, const WireResponse& wire, bool head,
                                 const KeepAliveDecision& keep_alive, bool force_close) {
  const int status = wire.status >= 100 && wire.status <= 999 ? wire.status : 500;
  std::string_view reason =
      wire.reason.empty() ? reason_phrase(status) : std::string_view(wire.reason);
  if (!valid_header_value(reason)) reason = reason_phrase(status);
  begin_head(out, version, status, reason, server);
  if (!wire.content_type.empty()) {
    out += "Content-Type: ";
    out += wire.content_type;
    out += "\r\n";
  }
  for (const auto& [name, value] : wire.headers) {
    if (iequals(name, "Content-Length") || iequals(name, "Connection") ||
        iequals(name, "Keep-Alive") || iequals(name, "Transfer-Encoding") ||
        iequals(name, "Server") || iequals(name, "Date")) {
      continue;
    }
    if (!valid_header_name(name) || !valid_header_value(value)) continue;  // never split headers
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  const bool no_body_status = status == 204 || status == 304 || (status >= 100 && status < 200);
  if (!no_body_status) {
    char digits[24];
    out += "Content-Length: ";
    out.append(digits, std::to_chars(digits, digits + sizeof digits, wire.body.size()).ptr);
    out += "\r\n";
  }
  end_head(out, keep_alive, force_close);
  const bool send_body = !(head || no_body_status);
  return std::string_view(wire.body.data(), send_body ? wire.body.size() : 0);
}

}  // namespace tomodachi::http_impl
