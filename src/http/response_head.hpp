#pragma once
// Response heads as bytes (no socket): status line, Server, Date, the response's headers,
// Content-Length and the connection's fate. The status line echoes the request's version.

#include "http/http_util.hpp"

#include <string>
#include <string_view>

namespace tomodachi::http_impl {

/// `Date` header value, formatted once per second.
std::string_view http_date();

/// A token (RFC 9110 §5.1) usable as a header name.
bool valid_header_name(std::string_view name);
/// No CR, LF or NUL: the value cannot split the head.
bool valid_header_value(std::string_view value);

/// Starts a head in `out` (cleared): `<version> <status> <reason>`, Server and Date.
void begin_head(std::string& out, std::string_view version, int status, std::string_view reason,
                std::string_view server);
/// Ends a head: `Connection: keep-alive` + `Keep-Alive`, or `Connection: close`; blank line.
void end_head(std::string& out, const KeepAliveDecision& keep_alive, bool force_close = false);

/// The whole head of `wire` in `out`; returns the body bytes to send after it (none for
/// HEAD and for the statuses without body).
std::string_view format_response(std::string& out, std::string_view version,
                                 std::string_view server, const WireResponse& wire, bool head,
                                 const KeepAliveDecision& keep_alive, bool force_close);

}  // namespace tomodachi::http_impl
