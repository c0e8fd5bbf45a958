#pragma once
// The request pipeline (spec/http.md §3): a parsed request in, a response out - routing,
// guards, middlewares, the handler, exceptions mapped through the http_error handlers.
// No socket: tests feed it requests built by hand (tests/unit/http/pipeline_test.cpp).

#include "http/http_util.hpp"
#include "http/request_state.hpp"
#include "http/router.hpp"
#include "http/server_metrics.hpp"
#include "telemetry/config.hpp"
#include "telemetry/tracer.hpp"

#include <tomodachi/http.hpp>
#include <tomodachi/task.hpp>

#include <exception>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tomodachi::http_impl {

/// What the pipeline takes from the options.
struct PipelineConfig {
  ContentDefaults defaults;
  std::vector<IpNetwork> real_ip_from;
  std::string real_ip_header;
};

class Pipeline {
 public:
  explicit Pipeline(Service& service) : service_(service) {}

  /// Builds the routing table from the registrations. Throws ArgumentError for a
  /// bad route pattern or static folder.
  void setup(const std::vector<const detail::HttpSpec*>& specs, PipelineConfig config);

  /// Fills `state` from a parsed head (method, path, query, client address, user) and
  /// routes it. `peer_ip` is the TCP peer.
  void prepare(detail::RequestState& state, const RequestMessage& message,
               std::string_view peer_ip) const;

  /// The answer to a prepared request whose route is a handler, or that found none
  /// (404/405). With `accepting` false (the drain began) the answer is 503. Never throws.
  /// With OpenTelemetry instrumentation on, a SERVER span (current while the handler runs)
  /// and the http.server.* metrics surround it, as upstream's aiohttp middleware.
  Task<WireResponse> respond(Request& request, bool accepting) {
    if (telemetry::tracer() == nullptr) return respond_plain(request, accepting);  // off
    return respond_traced(request, accepting);
  }

  /// The response of an HTTP status: its http_error handler (then the 500 one), else the
  /// reason phrase, or `body` when an HttpError carried one; `extra` headers are added
  /// unless the handler set them.
  Task<WireResponse> error_response(int status, Request& request, Headers extra, bool empty_500,
                                    std::string body);

  /// Runs a websocket route's handler behind the middlewares; its callbacks end up in the
  /// request state. Throws what the chain threw.
  Task<void> run_websocket_handler(Request& request);

  /// Logs a handler's exception with the handler's fields.
  void log_handler_error(std::exception_ptr error, const detail::RequestState& state) const;

  const Router& router() const noexcept { return router_; }
  const ContentDefaults& defaults() const noexcept { return config_.defaults; }

 private:
  /// What the innermost link of the middleware chain calls.
  enum class Target { route_handler, error_handler, websocket_handler };

  Task<WireResponse> respond_plain(Request& request, bool accepting);
  Task<WireResponse> respond_traced(Request& request, bool accepting);
  Task<WireResponse> handle_exception(std::exception_ptr error, Request& request);
  Task<Response> run_chain(std::size_t index, Request& request, Target target);
  Task<Response> call_inner(Request& request, Target target);

  Service& service_;
  PipelineConfig config_;
  Router router_;
  std::vector<Route> routes_;
  std::unordered_map<int, const detail::HttpSpec*> error_handlers_;
  std::vector<const detail::HttpMiddlewareSpec*> middlewares_;
  telemetry::UrlExcluder excluded_urls_;  ///< built at setup while instrumentation is on
  ServerMetrics server_metrics_;          ///< traced requests' http.server.* series
};

}  // namespace tomodachi::http_impl
