#pragma once
// Static files (spec/http.md §11): the routes of `http_static`, the path checks that keep
// a request inside its folder, ranges, conditional requests, and sending the bytes.

#include "http/http_util.hpp"
#include "http/request_state.hpp"

#include <tomodachi/http.hpp>
#include <tomodachi/task.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tomodachi::http_impl {

/// The route regex of a static folder (a `filename` group appended when it has none).
std::string static_route_pattern(const detail::HttpStaticSpec& spec);

/// The real path of the folder, with a trailing '/'. Throws ArgumentError
/// (`Invalid path '<path>' for static route`).
std::string static_base_directory(const detail::HttpStaticSpec& spec, const Service& service);

/// One byte range of a `Range` header (`bytes=a-b`, `bytes=a-`, `bytes=-n`).
struct ByteRange {
  std::int64_t first = 0;
  std::int64_t last = -1;
  bool partial = false;        ///< a valid single range: answer 206
  bool unsatisfiable = false;  ///< valid but outside the file: answer 416
};
/// Several ranges or an invalid one: the whole file (`partial` false).
ByteRange parse_byte_range(std::string_view value, std::int64_t size);

/// What serve_static did: sent the file (`length` bytes, or -1 when the connection
/// broke), or found nothing to send (`error_status` 404/403 for the error handlers).
struct StaticOutcome {
  int status = 200;
  std::int64_t length = 0;
  int error_status = 0;
  bool read_failed = false;  ///< logged as a warning; the connection is closed
  std::chrono::steady_clock::time_point resolved_at;
};

/// Answers the request of `connection` (routed to `route`) from the folder.
Task<StaticOutcome> serve_static(Connection& connection, const Route& route, bool head,
                                 const KeepAliveDecision& keep_alive);

}  // namespace tomodachi::http_impl
