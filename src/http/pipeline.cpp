// The request pipeline (spec/http.md §3.3-§3.7, §4, §5): routing, guards, middlewares,
// handlers and the http_error handlers, from a parsed request to a WireResponse.

#include "http/pipeline.hpp"

#include "http/session.hpp"
#include "http/static_files.hpp"
#include "telemetry/instrument.hpp"
#include "telemetry/trace_context.hpp"
#include "telemetry/tracer.hpp"

#include <tomodachi/logging.hpp>

namespace tomodachi::http_impl {
namespace {

std::optional<std::string_view> header_value(const RequestMessage& message, std::string_view name) {
  auto it = message.find(boost::beast::string_view(name.data(), name.size()));
  if (it == message.end()) return std::nullopt;
  return std::string_view(it->value().data(), it->value().size());
}

// The route as upstream's middleware reports it: the handler's regex without ^ and $.
std::string simplified_route(const detail::RequestState& state) {
  if (state.route == nullptr || state.route->handler == nullptr) return {};
  std::string_view pattern = state.route->handler->pattern;
  if (pattern.size() > 1 && pattern.front() == '^') pattern.remove_prefix(1);
  if (pattern.size() > 1 && pattern.back() == '$') pattern.remove_suffix(1);
  return std::string(pattern);
}

// Upstream's OpenTelemetryAioHTTPMiddleware.get_attributes, in its order.
// `metric_key` gets the values the http.server.* metric attributes are made of.
trace::Attributes server_attributes(const detail::RequestState& state, const std::string& route,
                                    std::string& metric_key) {
  trace::Attributes attributes;
  attributes.reserve(20);  // 17 at most, and room for what the span adds
  const auto host = state.message ? header_value(*state.message, "Host") : std::nullopt;
  std::int64_t port = 80;
  std::string_view host_name;
  if (host) {
    host_name = *host;
    if (auto colon = host->find(':'); colon != std::string_view::npos) {
      host_name = host->substr(0, colon);
      port = std::atoll(std::string(host->substr(colon + 1)).c_str());
    }
  }
  static const Connection::SocketNames no_socket;
  const Connection::SocketNames& names =
      state.connection != nullptr ? state.connection->socket_names() : no_socket;
  const std::string& server_ip = names.local_ip;
  const std::int64_t server_port = names.local_port;
  const std::string& client_ip = names.peer_ip;
  const std::int64_t client_port = names.peer_port;
  std::string server_address =
      host ? std::string(host_name) : (server_ip.empty() ? "127.0.0.1" : server_ip);
  const std::int64_t server_port_value = host ? port : (server_port != 0 ? server_port : port);
  std::string_view version = state.version;
  if (version.starts_with("HTTP/")) version.remove_prefix(5);
  // The values the metric attributes are made of (url.scheme and the protocol name are
  // constant): http.request.method, http.route, server.address, server.port, the version.
  metric_key.assign(state.method);
  for (std::string_view part : {std::string_view(route), std::string_view(server_address)}) {
    metric_key += '\x1f';
    metric_key += part;
  }
  metric_key += '\x1f';
  metric_key += std::to_string(server_port_value);
  metric_key += '\x1f';
  metric_key += version;

  attributes.emplace_back("http.request.method", std::string(state.method));
  if (!route.empty()) attributes.emplace_back("http.route", route);
  attributes.emplace_back("server.address", std::move(server_address));
  attributes.emplace_back("server.port", server_port_value);
  attributes.emplace_back("url.scheme", std::string("http"));
  attributes.emplace_back("url.path", state.path);
  if (!state.query.empty()) attributes.emplace_back("url.query", std::string(state.query));
  if (auto agent = state.message ? header_value(*state.message, "User-Agent") : std::nullopt)
    attributes.emplace_back("user_agent.original", std::string(*agent));
  attributes.emplace_back("client.address", state.remote_ip);
  if (!client_ip.empty() && client_port != 0) {
    attributes.emplace_back("client.socket.address", client_ip);
    attributes.emplace_back("client.socket.port", client_port);
  }
  if (!server_ip.empty()) attributes.emplace_back("server.socket.address", server_ip);
  attributes.emplace_back("server.socket.port", server_port != 0 ? server_port : port);
  attributes.emplace_back("network.protocol.version", std::string(version));
  attributes.emplace_back("network.protocol.name", std::string("http"));
  return attributes;
}

}  // namespace

void Pipeline::setup(const std::vector<const detail::HttpSpec*>& specs, PipelineConfig config) {
  config_ = std::move(config);
  routes_.clear();
  router_ = Router();
  error_handlers_.clear();
  middlewares_.clear();
  routes_.reserve(specs.size());  // Route pointers stay valid: no reallocation below
  for (const auto* spec : specs) {
    const auto& definition = spec->definition;
    if (const auto* route = std::get_if<detail::HttpRouteSpec>(&definition)) {
      router_.add(route->methods, route->pattern, routes_.size());
      routes_.push_back(Route{spec, RouteKind::handler, route, nullptr, &route->logging});
    } else if (const auto* websocket = std::get_if<detail::HttpWebsocketSpec>(&definition)) {
      router_.add({"GET"}, websocket->pattern, routes_.size());
      routes_.push_back(Route{spec, RouteKind::websocket, nullptr, websocket, nullptr});
    } else if (const auto* files = std::get_if<detail::HttpStaticSpec>(&definition)) {
      Route route{spec, RouteKind::static_files, nullptr, nullptr, &files->logging};
      route.static_base = static_base_directory(*files, service_);
      router_.add({"GET"}, static_route_pattern(*files), routes_.size());
      route.filename_group = router_.group_index(routes_.size(), "filename");
      routes_.push_back(std::move(route));
    } else if (const auto* error = std::get_if<detail::HttpErrorSpec>(&definition)) {
      error_handlers_[error->status] = spec;
    } else if (const auto* middleware = std::get_if<detail::HttpMiddlewareSpec>(&definition)) {
      middlewares_.push_back(middleware);
    }
  }
  excluded_urls_ = telemetry::UrlExcluder();
  if (const auto* otel = telemetry::instrumentation_config(); otel && !otel->excluded_urls.empty())
    excluded_urls_ = telemetry::UrlExcluder(otel->excluded_urls);
}

void Pipeline::prepare(detail::RequestState& state, const RequestMessage& message,
                       std::string_view peer_ip) const {
  state.reset();
  state.router = &router_;
  state.message = &message;
  state.method = std::string_view(message.method_string().data(), message.method_string().size());
  state.target = std::string_view(message.target().data(), message.target().size());
  state.version = message.version() == 10 ? "HTTP/1.0" : "HTTP/1.1";
  std::string_view raw_path = state.target;
  if (auto question = raw_path.find('?'); question != std::string_view::npos) {
    state.query = raw_path.substr(question + 1);
    raw_path = raw_path.substr(0, question);
  }
  if (raw_path.find('%') == std::string_view::npos) {
    state.path.assign(raw_path);
  } else {
    state.path = percent_decode(raw_path);
  }
  // Absolute-form targets (`GET http://host/path`): route on the path part.
  if (!state.path.empty() && state.path.front() != '/') {
    auto scheme = state.path.find("://");
    if (scheme != std::string::npos) {
      auto slash = state.path.find('/', scheme + 3);
      state.path = slash == std::string::npos ? std::string("/") : state.path.substr(slash);
    }
  }
  if (!config_.real_ip_from.empty() && !config_.real_ip_header.empty()) {
    auto header = message.find(config_.real_ip_header);
    std::optional<std::string_view> value;
    if (header != message.end())
      value = std::string_view(header->value().data(), header->value().size());
    state.remote_ip = real_ip(peer_ip, value, config_.real_ip_from);
  } else {
    state.remote_ip.assign(peer_ip);
  }
  if (auto authorization = message.find(boost::beast::http::field::authorization);
      authorization != message.end()) {
    state.auth_user = basic_auth_user(
        std::string_view(authorization->value().data(), authorization->value().size()));
  }
  router_.resolve(state.method, state.path, state.match);
  if (state.match.outcome == Router::Outcome::found) state.route = &routes_[state.match.route];
}

Task<WireResponse> Pipeline::respond_traced(Request& request, bool accepting) {
  auto& state = detail::request_state(request);
  const telemetry::Tracer* tracer = telemetry::tracer();
  if (tracer == nullptr || (!excluded_urls_.empty() && excluded_urls_.excluded(state.path))) {
    auto plain = respond_plain(request, accepting);  // excluded: no span, no metrics
    co_return co_await std::move(plain);
  }
  const auto started = std::chrono::steady_clock::now();
  const std::string route = simplified_route(state);
  std::string metric_key;
  trace::Attributes attributes = server_attributes(state, route, metric_key);
  std::optional<telemetry::SpanContext> parent;
  if (state.message) {
    parent = telemetry::extract(header_value(*state.message, "traceparent"),
                                header_value(*state.message, "tracestate"));
  }
  std::string name(state.method);
  if (!route.empty()) name += " " + route;
  telemetry::MetricsRegistry* registry = telemetry::metrics();
  ServerMetrics::InFlight metrics;
  const auto given = [&attributes]() -> const trace::Attributes& { return attributes; };
  if (registry) metrics = server_metrics_.begin(*registry, std::move(metric_key), given);
  // The attributes move into the span; a new metric series later reads them there (or
  // builds them again for a span that is not recorded).
  trace::Span span =
      tracer->start_span(std::move(name), trace::SpanKind::server, std::move(attributes), parent);
  auto inner = respond_plain(request, accepting);
  // A traced connection's chain has a slot of its own: the span goes there (no spawn).
  auto in_span = telemetry::with_span(span, std::move(inner));
  WireResponse wire = co_await std::move(in_span);
  const std::int64_t status = wire.status;
  if (status >= 500) span.set_status(trace::StatusCode::error);
  span.set_attribute("http.response.status_code", status);
  if (registry) {
    std::optional<trace::Attributes> rebuilt;
    const auto later = [&]() -> const trace::Attributes& {
      if (span.is_recording()) return span.state()->data.attributes;
      std::string ignored;
      return rebuilt.emplace(server_attributes(state, route, ignored));
    };
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    server_metrics_.end(metrics, status, elapsed.count(), span, later);
  }
  span.end();
  co_return wire;
}

Task<WireResponse> Pipeline::respond_plain(Request& request, bool accepting) {
  auto& state = detail::request_state(request);
  if (state.match.outcome != Router::Outcome::found) {
    Headers extra;
    const bool not_allowed = state.match.outcome == Router::Outcome::method_not_allowed;
    if (not_allowed) extra.emplace_back("Allow", state.match.allow);
    std::string no_body;
    auto task = error_response(not_allowed ? 405 : 404, request, std::move(extra), false,
                               std::move(no_body));
    co_return co_await std::move(task);
  }
  std::exception_ptr error;
  try {
    if (!accepting) throw HttpError(503);
    const detail::HttpRouteSpec& route = *state.route->handler;
    if (middlewares_.empty() && route.guards.empty()) {
      auto task = route.handler(service_, request);  // the common case: no chain frames
      Response response = co_await std::move(task);
      co_return to_wire(std::move(response), 200, config_.defaults);
    }
    auto task = run_chain(0, request, Target::route_handler);
    Response response = co_await std::move(task);
    co_return to_wire(std::move(response), 200, config_.defaults);
  } catch (...) {
    error = std::current_exception();
  }
  auto task = handle_exception(error, request);
  co_return co_await std::move(task);
}

Task<WireResponse> Pipeline::handle_exception(std::exception_ptr error, Request& request) {
  int status = 500;
  Headers extra;
  std::string body;
  bool generic = false;
  try {
    std::rethrow_exception(error);
  } catch (const HttpError& http_error) {
    status = http_error.status();
    extra = http_error.headers();
    body = http_error.body();
  } catch (const ResponseEncodingError&) {
    log_handler_error(error, detail::request_state(request));
  } catch (...) {
    generic = true;
    log_handler_error(error, detail::request_state(request));
  }
  if (generic || status >= 500) {  // the request's span records what made it fail
    if (auto span = trace::current_span(); span.is_recording()) span.record_exception(error);
  }
  auto task = error_response(status, request, std::move(extra), generic, std::move(body));
  co_return co_await std::move(task);
}

Task<void> Pipeline::run_websocket_handler(Request& request) {
  auto task = run_chain(0, request, Target::websocket_handler);
  Response ignored = co_await std::move(task);
  (void)ignored;
}

Task<Response> Pipeline::call_inner(Request& request, Target target) {
  auto& state = detail::request_state(request);
  if (target == Target::error_handler) {
    const auto& error_spec = std::get<detail::HttpErrorSpec>(state.error_spec->definition);
    auto task = error_spec.handler(service_, request);
    co_return co_await std::move(task);
  }
  if (target == Target::websocket_handler) {
    auto task = state.route->websocket->handler(service_, *state.websocket, request);
    state.websocket_callbacks = co_await std::move(task);
    co_return Response{};
  }
  const detail::HttpRouteSpec& route = *state.route->handler;
  for (const auto& guard : route.guards) {
    auto guard_task = guard(service_, request);
    std::optional<Response> answer = co_await std::move(guard_task);
    if (answer) co_return std::move(*answer);
  }
  auto task = route.handler(service_, request);
  co_return co_await std::move(task);
}

Task<Response> Pipeline::run_chain(std::size_t index, Request& request, Target target) {
  if (index >= middlewares_.size()) {
    auto task = call_inner(request, target);
    co_return co_await std::move(task);
  }
  // `next` captures one pointer to this frame's link: small enough for std::function's
  // inline storage, so building it allocates nothing.
  struct Link {
    Pipeline* pipeline;
    Request* request;
    std::size_t index;
    Target target;
  } link{this, &request, index + 1, target};
  HttpNext next = [&link]() {
    return link.pipeline->run_chain(link.index, *link.request, link.target);
  };
  auto task = middlewares_[index]->middleware(next, request);
  co_return co_await std::move(task);
}

Task<WireResponse> Pipeline::error_response(int status, Request& request, Headers extra,
                                            bool empty_500, std::string body) {
  auto& state = detail::request_state(request);
  // First the handler of `status`, then (when that one fails) the handler of 500.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int attempt_status = attempt == 0 ? status : 500;
    if (attempt == 1 && status == 500) break;  // the 500 handler was the one that failed
    auto it = error_handlers_.find(attempt_status);
    if (it == error_handlers_.end()) {
      if (attempt_status != status) break;  // no 500 handler to fall back to
      WireResponse wire = status_response(status, status == 500 && empty_500);
      if (!body.empty()) wire.body = std::move(body);  // HttpError(status, headers, body)
      for (auto& header : extra) wire.add_header(std::move(header.first), std::move(header.second));
      co_return wire;
    }
    state.error_spec = it->second;
    state.status_code = attempt_status;
    std::exception_ptr error;
    try {
      Response response;
      if (middlewares_.empty()) {
        const auto& error_spec = std::get<detail::HttpErrorSpec>(it->second->definition);
        auto task = error_spec.handler(service_, request);
        response = co_await std::move(task);
      } else {
        auto task = run_chain(0, request, Target::error_handler);
        response = co_await std::move(task);
      }
      WireResponse wire = to_wire(std::move(response), attempt_status, config_.defaults);
      if (attempt_status == status) {
        for (auto& header : extra) {  // the handler's own headers win
          const bool present = iequals(header.first, "Content-Type")
                                   ? !wire.content_type_value().empty()
                                   : find_header(wire.headers, header.first) != nullptr;
          if (!present) wire.add_header(std::move(header.first), std::move(header.second));
        }
      }
      co_return wire;
    } catch (...) {
      error = std::current_exception();
    }
    log_handler_error(error, state);
    if (attempt_status == 500) break;
  }
  co_return status_response(500, true);
}

void Pipeline::log_handler_error(std::exception_ptr error,
                                 const detail::RequestState& state) const {
  log_uncaught_exception(error, state.handler_fields());
}

}  // namespace tomodachi::http_impl
