#pragma once
/// @file
/// HTTP transport: requests, responses, routes, error handlers, static files,
/// middleware and guards (spec/http.md). Registration happens in the service
/// constructor:
///
/// ```cpp
/// http<&Shop::item>("GET", R"(/item/(?P<id>[^/]+?)/?)");
/// http_error<&Shop::not_found>(404);
/// http_static("static", "/static/");
/// ```
///
/// Handlers are coroutines `tomodachi::Task<R> fn(tomodachi::Request&)` (or plain
/// functions returning `R`) where `R` is anything a `Response` converts from:
/// a string, `Bytes`, `void`/`std::nullopt`, `{status, body}`, `{status, body, headers}`,
/// `Response::json(value)` or a full `Response`.

#include <tomodachi/bytes.hpp>
#include <tomodachi/detail/bind_member.hpp>
#include <tomodachi/detail/handler_spec.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/json.hpp>
#include <tomodachi/service.hpp>
#include <tomodachi/task.hpp>
#include <tomodachi/websocket.hpp>

#include <boost/json/value.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace tomodachi {

/// Response headers in the order given; names are case-insensitive on lookup.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// What a handler returns. Status 0 means "the default": 200, or inside an
/// `http_error(status)` handler that status. Text bodies are encoded with the
/// response charset (spec/http.md §5); `Bytes` bodies are sent unchanged.
/// When none of a `Content-Type` header, `content_type` or `charset` is given, the
/// service's `http.content_type` / `http.charset` options apply.
struct Response {
  int status = 0;
  std::string body;
  bool binary = false;  ///< true: body is bytes (no charset encoding)
  Headers headers;
  std::optional<std::string> content_type;
  std::optional<std::string> charset;
  std::optional<std::string> reason;

  Response() = default;  ///< empty body (Python `None`)
  Response(std::nullopt_t) {}
  Response(std::string text) : body(std::move(text)) {}
  Response(std::string_view text) : body(text) {}
  Response(const char* text) : body(text) {}
  Response(Bytes bytes) : body(std::move(bytes.value)), binary(true) {}
  Response(int status_code, std::string text, Headers extra_headers = {})
      : status(status_code), body(std::move(text)), headers(std::move(extra_headers)) {}
  Response(int status_code, const char* text, Headers extra_headers = {})
      : status(status_code), body(text), headers(std::move(extra_headers)) {}
  Response(int status_code, Bytes bytes, Headers extra_headers = {})
      : status(status_code),
        body(std::move(bytes.value)),
        binary(true),
        headers(std::move(extra_headers)) {}

  /// `json.dumps(value)` as body with `Content-Type: application/json; charset=utf-8`.
  static Response json(const boost::json::value& value, int status_code = 0);

  /// Adds a header (kept in order; duplicates allowed, e.g. `Set-Cookie`).
  Response& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

/// One field of a form body (`application/x-www-form-urlencoded` or
/// `multipart/form-data`); uploaded files carry their `filename`.
struct FormField {
  std::string name;
  std::string value;  ///< the field's bytes (file contents for uploads)
  std::optional<std::string> filename;
  std::string content_type;  ///< of a multipart part (`""` when not given)
};

/// Raise from a handler or middleware to answer with an HTTP status (a redirect,
/// 403, ...). Goes through the `http_error` handler of that status if one exists;
/// otherwise the body is `body` (`text/plain; charset=utf-8` unless `headers` say
/// otherwise), or the reason phrase (`Found`, `Forbidden`, ...) when `body` is empty.
class HttpError : public Error {
 public:
  explicit HttpError(int status, Headers headers = {}, std::string body = {});
  int status() const noexcept { return status_; }
  const Headers& headers() const noexcept { return headers_; }
  const std::string& body() const noexcept { return body_; }

 private:
  int status_;
  Headers headers_;
  std::string body_;
};

/// Raised for HTTP transport start errors (bind failure, access-log file).
class HttpException : public Error {
 public:
  using Error::Error;
};

class Request;

namespace detail {
struct RequestState;
/// The server's state behind a request (src/http/request_state.hpp; not part of the API).
RequestState& request_state(Request& request) noexcept;
}  // namespace detail

/// The query parameters of a request (aiohttp's `request.query` MultiDict): every
/// `name=value` pair in the order sent, `+` and `%xx` decoded. Parsed once per request.
class QueryMap {
 public:
  using Item = std::pair<std::string, std::string>;
  QueryMap() = default;
  explicit QueryMap(std::vector<Item> items) : items_(std::move(items)) {}

  /// The first value of `name`, or nullopt when absent (`?a` gives `""`).
  std::optional<std::string_view> get(std::string_view name) const noexcept {
    for (const auto& [key, value] : items_) {
      if (key == name) return std::string_view(value);
    }
    return std::nullopt;
  }
  /// Every value of `name` in the order sent (`?a=1&a=2` gives `{"1", "2"}`).
  std::vector<std::string_view> getall(std::string_view name) const {
    std::vector<std::string_view> values;
    for (const auto& [key, value] : items_) {
      if (key == name) values.emplace_back(value);
    }
    return values;
  }
  bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  std::vector<Item>::const_iterator begin() const noexcept { return items_.begin(); }
  std::vector<Item>::const_iterator end() const noexcept { return items_.end(); }

 private:
  std::vector<Item> items_;
};

/// One HTTP request as the handler sees it. Valid for the duration of the handler call
/// (copy out what must live longer). All accessors are cheap views.
class Request {
 public:
  explicit Request(detail::RequestState& state) noexcept : state_(&state) {}

  std::string_view method() const noexcept;
  /// Percent-decoded path without the query string (what routes match against).
  std::string_view path() const noexcept;
  /// The request target as sent (`/a%20b?x=1`).
  std::string_view target() const noexcept;
  /// Raw query string without `?` (`""` when absent).
  std::string_view query_string() const noexcept;
  /// The first value of query parameter `name`, percent-decoded.
  std::optional<std::string> query(std::string_view name) const;
  /// Every query parameter (`request.query().getall("tag")`), parsed once and cached.
  const QueryMap& query() const;
  /// `HTTP/1.1` or `HTTP/1.0`.
  std::string_view http_version() const noexcept;

  /// The first value of header `name` (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  /// Every header as (name, value) pairs in the order received.
  std::vector<std::pair<std::string_view, std::string_view>> headers() const;

  /// The cookies of the `Cookie` header(s) as aiohttp's `request.cookies` gives them
  /// (`a=1; b="x y"` -> {a: 1, b: x y}; a later duplicate wins). Parsed once and cached.
  const std::map<std::string, std::string>& cookies() const;

  /// The complete body (read before the handler runs).
  std::string_view body() const noexcept;
  /// The body decoded by the `charset` of its `Content-Type` into UTF-8 (aiohttp's
  /// `await request.text()`): utf-8 when none is given; latin-1 (iso-8859-1) is converted;
  /// ascii and unknown charsets are returned as sent.
  std::string text() const;
  /// The body parsed as JSON (aiohttp's `await request.json()`); throws HttpError(400)
  /// when it is not valid JSON.
  boost::json::value json() const;
  /// The fields of a form body (urlencoded or multipart), parsed once and cached; empty for
  /// other bodies. Throws HttpError(400) for a malformed multipart body.
  const std::vector<FormField>& form() const;
  /// The first form field named `name`, or null.
  const FormField* form_field(std::string_view name) const;

  /// A named group of the route pattern (`(?P<id>...)`); `""` when it did not
  /// participate in the match or does not exist (see `matched`).
  std::string_view match(std::string_view name) const noexcept;
  /// True when group `name` participated in the match.
  bool matched(std::string_view name) const noexcept;

  /// Client address: the TCP peer, or the first address of `http.real_ip_header`
  /// when the peer is one of `http.real_ip_from` (spec/http.md §3).
  std::string_view remote_ip() const noexcept;
  /// User name of a `Authorization: Basic` header (`""` when absent or undecodable).
  std::string_view auth_user() const noexcept;

  /// Inside an `http_error(status)` handler (and its middlewares): that status.
  std::optional<int> status_code() const noexcept;
  /// True while the client connection is open.
  bool is_connected() const noexcept;
  /// Websocket connection id (uuid4) for websocket requests, else `""`.
  std::string_view websocket_id() const noexcept;

  /// Per-request values shared by the middleware chain and the handler (Python's
  /// middleware `context` dict and the keywords passed to `next(**kw)`).
  boost::json::object& context() noexcept;

  /// Logger `tomodachi.http.handler` bound to the handler name and type.
  Logger logger() const;

 private:
  friend detail::RequestState& detail::request_state(Request& request) noexcept;
  detail::RequestState* state_;
};

inline detail::RequestState& detail::request_state(Request& request) noexcept {
  return *request.state_;
}

/// `next` of a middleware: runs the rest of the chain (inner middlewares, then the
/// handler) and returns its response.
using HttpNext = std::function<Task<Response>()>;

/// An HTTP middleware: the first registered is the outermost. It may return
/// without calling `next` (short-circuit), or change what `next` returned.
using HttpMiddleware = std::function<Task<Response>(HttpNext& next, Request& request)>;

/// A guard (Python `tomodachi.decorator` under an `http` decorator): runs before the
/// handler; `std::nullopt` lets the handler run, a response is sent instead of it.
using HttpGuard = std::function<Task<std::optional<Response>>(Service& service, Request& request)>;

/// Options of `http(...)`.
struct HttpRouteOptions {
  /// Suppress the access-log record of this route (all of them when `ignore_logging`
  /// is true, only these statuses when `ignore_logging_statuses` is non-empty).
  bool ignore_logging = false;
  std::vector<int> ignore_logging_statuses;
  /// Guards run in order before the handler (see HttpGuard); template-argument
  /// guards (`http<&S::fn, &S::guard>`) run first.
  std::vector<HttpGuard> guards;
};

/// Options of `http_static(...)`.
struct HttpStaticOptions {
  bool ignore_logging = false;
  std::vector<int> ignore_logging_statuses;
};

/// The status a handler result or an exception would produce (Python
/// `get_http_response_status`): the response's status (default 200), an
/// HttpError's status, 500 for other exceptions, 499 when `request` is given and its
/// client is gone.
int get_http_response_status(const Response& value, const Request* request = nullptr);
int get_http_response_status(std::exception_ptr error, const Request* request = nullptr);

/// The port the HTTP server of `service` listens on (the bound one when
/// `http.port` is 0/unset); nullopt before it listens.
std::optional<int> http_port(const Service& service);

/// The HTTP stack version reported in the execution context (`http_server_version`).
std::string_view http_server_version() noexcept;

// ---- Registration plumbing (used by the Service::http* templates) -------------------

namespace detail {

/// Type-erased route handler: runs the user function on `service`.
using HttpHandlerFn = std::function<Task<Response>(Service& service, Request& request)>;

/// Type-erased websocket handler: runs the user function on `service` after the upgrade.
using WebsocketHandlerFn = std::function<Task<WebsocketCallbacks>(Service&, Websocket&, Request&)>;

/// Access-log options of a route or a static folder (HttpRouteOptions / HttpStaticOptions).
struct HttpLogging {
  bool ignore = false;
  std::vector<int> ignore_statuses;
};

/// `http(...)`: a route answered by a handler behind its guards.
struct HttpRouteSpec {
  std::vector<std::string> methods;  ///< upper-cased
  std::string pattern;               ///< the regex as given
  HttpHandlerFn handler;
  std::vector<HttpGuard> guards;
  HttpLogging logging;
};

/// `http_error(status)`.
struct HttpErrorSpec {
  int status = 0;
  HttpHandlerFn handler;
};

/// `http_static(path, url)`.
struct HttpStaticSpec {
  std::string pattern;   ///< the regex as given
  std::string path;      ///< the directory (resolved against the registering source file)
  std::string raw_path;  ///< the path as given
  HttpLogging logging;
};

/// `websocket(url)`.
struct HttpWebsocketSpec {
  std::string pattern;  ///< the regex as given
  WebsocketHandlerFn handler;
};

/// `http_middleware(...)`.
struct HttpMiddlewareSpec {
  HttpMiddleware middleware;
};

/// One registration of the HTTP transport: exactly one of the five kinds.
struct HttpSpec : HandlerSpec {
  using Definition = std::variant<HttpRouteSpec, HttpErrorSpec, HttpStaticSpec, HttpWebsocketSpec,
                                  HttpMiddlewareSpec>;
  static constexpr std::string_view kind = "http";
  HttpSpec(std::string handler_name, Definition spec_definition)
      : HandlerSpec(std::string(kind), std::move(handler_name)),
        definition(std::move(spec_definition)) {}
  Definition definition;
};

void add_http_spec(Service& service, std::unique_ptr<HttpSpec> spec);
/// An absolute static directory: `path` as is when absolute, else relative to the
/// directory of the source file that registered it.
std::string resolve_static_path(std::string_view path, const std::source_location& where);

template <typename R>
Response to_response(R&& value) {
  if constexpr (std::is_same_v<std::decay_t<R>, Response>) {
    return std::forward<R>(value);
  } else if constexpr (std::is_same_v<std::decay_t<R>, boost::json::value> ||
                       std::is_same_v<std::decay_t<R>, boost::json::object> ||
                       std::is_same_v<std::decay_t<R>, boost::json::array>) {
    return Response::json(boost::json::value(std::forward<R>(value)));
  } else {
    static_assert(
        std::is_convertible_v<R&&, Response>,
        "tomodachi: an HTTP handler must return something a tomodachi::Response converts from");
    return Response(std::forward<R>(value));
  }
}

template <typename T>
struct is_task : std::false_type {};
template <typename T>
struct is_task<Task<T>> : std::true_type {
  using value_type = T;
};

/// What a handler, guard or websocket handler gives back, as the type the pipeline wants:
/// `Response` (through to_response), `std::optional<Response>` (a guard's verdict) or
/// `WebsocketCallbacks`. A `void` result is the type's default.
template <typename Out, typename V>
Out convert_result(V&& value) {
  if constexpr (std::is_same_v<Out, Response>) {
    return to_response(std::forward<V>(value));
  } else {
    return Out(std::forward<V>(value));
  }
}

/// The one conversion ladder: calls `fn(args...)` (a coroutine or not, void or not) and
/// turns its result into `Out`. `fn` is taken by value (a bound member or a reference
/// wrapper): it lives in the frame for the whole call.
template <typename Out, typename F, typename... Args>
Task<Out> call_converting(F fn, Args&... args) {
  using Result = std::invoke_result_t<F&, Args&...>;
  if constexpr (is_task<Result>::value) {
    if constexpr (std::is_void_v<typename is_task<Result>::value_type>) {
      co_await std::invoke(fn, args...);
      co_return Out{};
    } else {
      Out value = convert_result<Out>(co_await std::invoke(fn, args...));
      co_return value;
    }
  } else if constexpr (std::is_void_v<Result>) {
    std::invoke(fn, args...);
    co_return Out{};
  } else {
    Out value = convert_result<Out>(std::invoke(fn, args...));
    co_return value;
  }
}

/// Runs `fn(args...)` as a `Task<Out>`: a callable already returning `Task<Out>` is called
/// directly (no wrapping coroutine frame per request), anything else is converted.
template <typename Out, typename F, typename... Args>
Task<Out> call_as_task(F&& fn, Args&... args) {
  if constexpr (std::is_same_v<std::invoke_result_t<F&, Args&...>, Task<Out>>) {
    return std::invoke(fn, args...);
  } else {
    return call_converting<Out>(std::forward<F>(fn), args...);
  }
}

// ---- Signature checks: the first error a user sees for a wrong handler -------------------

template <typename Bound>
inline constexpr bool is_http_handler = std::is_invocable_v<Bound&, Request&>;

template <typename Bound>
constexpr bool is_http_guard() {
  if constexpr (!std::is_invocable_v<Bound&, Request&>) {
    return false;
  } else {
    using Result = std::invoke_result_t<Bound&, Request&>;
    if constexpr (is_task<Result>::value) {
      using Inner = typename is_task<Result>::value_type;
      return std::is_void_v<Inner> || std::is_convertible_v<Inner, std::optional<Response>>;
    } else {
      return std::is_void_v<Result> || std::is_convertible_v<Result, std::optional<Response>>;
    }
  }
}

template <typename Bound>
constexpr bool is_websocket_handler() {
  if constexpr (!std::is_invocable_v<Bound&, Websocket&, Request&>) {
    return false;
  } else {
    using Result = std::invoke_result_t<Bound&, Websocket&, Request&>;
    if constexpr (is_task<Result>::value) {
      using Inner = typename is_task<Result>::value_type;
      return std::is_void_v<Inner> || std::is_convertible_v<Inner, WebsocketCallbacks>;
    } else {
      return std::is_void_v<Result> || std::is_convertible_v<Result, WebsocketCallbacks>;
    }
  }
}

template <typename Bound>
inline constexpr bool is_http_middleware =
    std::is_invocable_r_v<Task<Response>, Bound&, HttpNext&, Request&>;

template <auto Guard>
constexpr bool check_guard() {
  if constexpr (!check_service_member<Guard>()) {
    return false;
  } else {
    constexpr bool ok = is_http_guard<bound_member_t<Guard>>();
    static_assert(ok,
                  "tomodachi: an http guard must be `tomodachi::Task<std::optional<tomodachi::"
                  "Response>> fn(tomodachi::Request&)` (or return void, Task<void> or "
                  "std::optional<tomodachi::Response>)");
    return ok;
  }
}

/// Checks handler `Fn` of `http<Fn, Guards...>` / `http_error<Fn>`; true when it is usable.
template <auto Fn, auto... Guards>
constexpr bool check_http_handler() {
  if constexpr (!check_service_member<Fn>()) {
    return false;
  } else {
    constexpr bool ok = is_http_handler<bound_member_t<Fn>>;
    static_assert(ok,
                  "tomodachi: an http handler must be `R fn(tomodachi::Request&)` or "
                  "`tomodachi::Task<R> fn(tomodachi::Request&)` where R converts to "
                  "tomodachi::Response");
    return ok && (check_guard<Guards>() && ...);
  }
}

template <auto Fn>
constexpr bool check_websocket_handler() {
  if constexpr (!check_service_member<Fn>()) {
    return false;
  } else {
    constexpr bool ok = is_websocket_handler<bound_member_t<Fn>>();
    static_assert(ok,
                  "tomodachi: a websocket handler must be `tomodachi::Task<tomodachi::"
                  "WebsocketCallbacks> fn(tomodachi::Websocket&, tomodachi::Request&)` (or "
                  "return void, Task<void> or tomodachi::WebsocketCallbacks)");
    return ok;
  }
}

template <auto Fn>
constexpr bool check_http_middleware() {
  if constexpr (!check_service_member<Fn>()) {
    return false;
  } else {
    constexpr bool ok = is_http_middleware<bound_member_t<Fn>>;
    static_assert(ok,
                  "tomodachi: an http middleware must be `tomodachi::Task<tomodachi::Response> "
                  "fn(tomodachi::HttpNext& next, tomodachi::Request&)`");
    return ok;
  }
}

// ---- Binding members (detail/bind_member.hpp) --------------------------------------------

/// Runs handler member `Fn` (an `http` route or an `http_error` handler).
template <auto Fn>
Task<Response> invoke_member(Service& service, Request& request) {
  return call_as_task<Response>(bind_member<Fn>(service), request);
}

/// Runs a guard member: a result of `std::nullopt` (or a void guard) lets the handler run.
template <auto Guard>
Task<std::optional<Response>> invoke_guard(Service& service, Request& request) {
  return call_as_task<std::optional<Response>>(bind_member<Guard>(service), request);
}

/// Runs websocket handler member `Fn` after the upgrade.
template <auto Fn>
Task<WebsocketCallbacks> invoke_websocket(Service& service, Websocket& websocket,
                                          Request& request) {
  return call_as_task<WebsocketCallbacks>(bind_member<Fn>(service), websocket, request);
}

template <auto Fn, auto... Guards>
std::unique_ptr<HttpSpec> make_route_spec(std::vector<std::string> methods,
                                          std::string_view pattern,
                                          const HttpRouteOptions& options) {
  HttpRouteSpec route{std::move(methods),
                      std::string(pattern),
                      &invoke_member<Fn>,
                      {},
                      HttpLogging{options.ignore_logging, options.ignore_logging_statuses}};
  (route.guards.push_back(HttpGuard(&invoke_guard<Guards>)), ...);
  for (const auto& guard : options.guards) route.guards.push_back(guard);
  return std::make_unique<HttpSpec>(std::string(handler_name<Fn>()), std::move(route));
}

}  // namespace detail

// ---- Service registration templates (declared in service.hpp) -------------------------

template <auto Fn, auto... Guards>
void Service::http(std::string_view method, std::string_view pattern,
                   const HttpRouteOptions& options) {
  if constexpr (detail::check_http_handler<Fn, Guards...>()) {
    detail::add_http_spec(
        *this, detail::make_route_spec<Fn, Guards...>({std::string(method)}, pattern, options));
  }
}

template <auto Fn, auto... Guards>
void Service::http(std::initializer_list<std::string_view> methods, std::string_view pattern,
                   const HttpRouteOptions& options) {
  if constexpr (detail::check_http_handler<Fn, Guards...>()) {
    std::vector<std::string> names;
    for (auto m : methods) names.emplace_back(m);
    detail::add_http_spec(
        *this, detail::make_route_spec<Fn, Guards...>(std::move(names), pattern, options));
  }
}

template <typename Handler>
void Service::http(std::string_view method, std::string_view pattern, std::string name,
                   Handler&& handler, const HttpRouteOptions& options) {
  using Callable = std::decay_t<Handler>;
  static_assert(detail::is_http_handler<Callable>,
                "tomodachi: an http handler callable must be `R (tomodachi::Request&)` or "
                "`tomodachi::Task<R> (tomodachi::Request&)` where R converts to "
                "tomodachi::Response");
  if constexpr (detail::is_http_handler<Callable>) {
    detail::HttpRouteSpec route{
        {std::string(method)},
        std::string(pattern),
        [fn = Callable(std::forward<Handler>(handler))](Service&, Request& request) mutable {
          return detail::call_as_task<Response>(std::ref(fn), request);
        },
        options.guards,
        detail::HttpLogging{options.ignore_logging, options.ignore_logging_statuses}};
    detail::add_http_spec(*this,
                          std::make_unique<detail::HttpSpec>(std::move(name), std::move(route)));
  }
}

template <auto Fn>
void Service::http_error(int status) {
  if constexpr (detail::check_http_handler<Fn>()) {
    detail::add_http_spec(*this, std::make_unique<detail::HttpSpec>(
                                     std::string(detail::handler_name<Fn>()),
                                     detail::HttpErrorSpec{status, &detail::invoke_member<Fn>}));
  }
}

template <auto Fn>
void Service::websocket(std::string_view url) {
  if constexpr (detail::check_websocket_handler<Fn>()) {
    detail::add_http_spec(
        *this, std::make_unique<detail::HttpSpec>(
                   std::string(detail::handler_name<Fn>()),
                   detail::HttpWebsocketSpec{std::string(url), &detail::invoke_websocket<Fn>}));
  }
}

template <auto Fn>
void Service::websocket(std::string_view url, const WebsocketOptions&) {
  websocket<Fn>(url);
}

template <auto Fn>
void Service::http_middleware() {
  if constexpr (detail::check_http_middleware<Fn>()) {
    detail::HttpMiddlewareSpec spec{
        [bound = detail::bind_member<Fn>(*this)](HttpNext& next, Request& request) {
          return bound(next, request);
        }};
    detail::add_http_spec(*this, std::make_unique<detail::HttpSpec>(
                                     std::string(detail::handler_name<Fn>()), std::move(spec)));
  }
}

}  // namespace tomodachi
