#pragma once
/// @file
/// `tomodachi::Service`: the base class of every service. Member functions become
/// handlers by registering them in the constructor (`http<&Shop::add>("POST", "/items")`),
/// the registration calls taking the place of Python's decorators.

#include <tomodachi/detail/bind_member.hpp>
#include <tomodachi/detail/handler_name.hpp>

#include <boost/json/fwd.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/message_middleware.hpp>
#include <tomodachi/options.hpp>
#include <tomodachi/task.hpp>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tomodachi {

struct HandlerSpec;
class Envelope;
// Registration option structs, defined in the transport headers.
struct HttpRouteOptions;
struct HttpStaticOptions;
struct WebsocketOptions;
struct Response;
class Request;
using HttpNext = std::function<Task<Response>()>;
struct AmqpOptions;
struct AwsSnsSqsOptions;
struct ScheduleSpec;

class Service;

namespace detail {
struct ServiceState;
/// The runtime's state of `service` (src/core/service_state.hpp; not part of the API).
ServiceState& service_state(Service& service) noexcept;
/// `Options{}` as the default argument of a registration whose options type is defined in a
/// transport header (incomplete here): the call depends on the registration's template
/// arguments, so it is checked where it is used. A plain `= {}` initializes an incomplete
/// type, which Clang rejects ("initialization of incomplete type").
template <typename Options, typename...>
Options default_options() {
  return Options{};
}
}  // namespace detail

class Service {
 public:
  /// `name` is the service name: registry key, envelope `service.name`, log field.
  explicit Service(std::string name = "service");
  virtual ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  const std::string& name() const noexcept;
  void set_name(std::string name);

  /// Random uuid4 per process start unless pinned (here, or by `-c` config `"uuid"`).
  const std::string& uuid() const noexcept;
  void set_uuid(std::string uuid);

  /// Configuration; see docs/options.md. A `-c` config `"options"` object replaces it.
  Options options;

  // ---- Messaging (owned by the messaging area; <tomodachi/message.hpp>) --------------
  /// Default envelope of this service's publishers and subscribers; null = raw.
  std::shared_ptr<const Envelope> message_envelope;
  /// Middleware around every AMQP and SNS/SQS handler, first = outermost
  /// (spec/service.md §7; <tomodachi/message_middleware.hpp>).
  std::vector<MessageMiddleware> message_middleware;
  // ---- end of messaging block ---------------------------------------------------------

  /// Lifecycle hooks (spec/service.md §4). Start hooks run concurrently across the
  /// services of a file; an exception aborts the start with exit code 1.
  virtual Task<void> start_service();
  virtual Task<void> started_service();
  virtual Task<void> stopping_service();
  virtual Task<void> stop_service();

  /// Inside a lifecycle hook: logger `tomodachi.lifecycle.handler` with `handler` (the
  /// hook), `type="tomodachi.event"`, `event` and `service`, as upstream's hook context.
  /// Elsewhere `tomodachi.service` with `service`; handlers get their own context from
  /// `request.logger()` / `message.logger()` / the schedule invocation.
  Logger logger() const;

  /// The merged `-c` config files (empty without `-c`): services may read their own
  /// keys here, as Python services read config attributes.
  const boost::json::object& config() const noexcept;

  /// The source file that defined the class (`TOMODACHI_SERVICE`), or "".
  const std::string& source_file() const noexcept;

  /// Every registration made so far, in registration order.
  const std::vector<std::unique_ptr<HandlerSpec>>& handlers() const noexcept;

  /// Adds a registration; transports and custom transports call this.
  void add_handler(std::unique_ptr<HandlerSpec> spec);

 protected:
  // ---- HTTP (defined in <tomodachi/http.hpp>) ---------------------------------------
  /// Route `method` requests whose whole path matches `pattern` to member `Fn`.
  /// `Guards` are members run before `Fn` that may answer instead of it
  /// (Python's `@tomodachi.decorator`), e.g. `http<&S::fn, &S::check_token>(...)`.
  template <auto Fn, auto... Guards>
  void http(
      std::string_view method, std::string_view pattern,
      const HttpRouteOptions& options = detail::default_options<HttpRouteOptions, decltype(Fn)>());
  template <auto Fn, auto... Guards>
  void http(
      std::initializer_list<std::string_view> methods, std::string_view pattern,
      const HttpRouteOptions& options = detail::default_options<HttpRouteOptions, decltype(Fn)>());
  /// The same with any callable; `name` is the handler name used in logs.
  template <typename Handler>
  void http(std::string_view method, std::string_view pattern, std::string name, Handler&& handler,
            const HttpRouteOptions& options = detail::default_options<HttpRouteOptions, Handler>());
  /// Handler producing the response for `status` (404, 405, 500, 503, ...).
  template <auto Fn>
  void http_error(int status);
  /// Serves files under `path` (relative: to the directory of the calling source file)
  /// at `url`.
  void http_static(std::string_view path, std::string_view url,
                   std::source_location where = std::source_location::current());
  void http_static(std::string_view path, std::string_view url, const HttpStaticOptions& options,
                   std::source_location where = std::source_location::current());
  /// Websocket endpoint; `Fn` gets the connection and returns its callbacks.
  template <auto Fn>
  void websocket(std::string_view url);
  /// Deprecated (removed in the next release): WebsocketOptions has no options.
  template <auto Fn>
  [[deprecated("tomodachi::WebsocketOptions has no options: call websocket<&S::fn>(url)")]] void
  websocket(std::string_view url, const WebsocketOptions& options);
  /// Appends HTTP middleware member `Fn` (`Task<Response> fn(HttpNext&, Request&)`);
  /// the first one added is the outermost.
  template <auto Fn>
  void http_middleware();
  /// Appends any callable middleware (see tomodachi::HttpMiddleware).
  void http_middleware(std::function<Task<Response>(HttpNext&, Request&)> middleware,
                       std::string name = "middleware");

  // ---- Message middleware (defined below) -------------------------------------------
  /// Appends message middleware member `Fn` (`Task<void> fn(Message&, MiddlewareContext&,
  /// const MessageNext& next)`) to `message_middleware`; the first one added is the outermost.
  template <auto Fn>
  void add_message_middleware();
  /// Appends any callable of that signature (what `message_middleware.push_back` takes,
  /// with the signature checked here).
  template <typename Middleware>
  void add_message_middleware(Middleware&& middleware);

  // ---- AMQP (defined in <tomodachi/amqp.hpp>) ---------------------------------------
  /// Subscribe member `Fn` (`Task<void> (S::*)(Message&)`) to `routing_key` (`*`/`#` allowed).
  template <auto Fn>
  void amqp(std::string_view routing_key,
            const AmqpOptions& options = detail::default_options<AmqpOptions, decltype(Fn)>());
  /// The same with any callable `Task<void>(Message&)`; `name` plays the handler name's part
  /// (queue names, duplicate keys, logs).
  template <typename Handler>
  void amqp(std::string_view routing_key, std::string name, Handler&& handler,
            const AmqpOptions& options = detail::default_options<AmqpOptions, Handler>());

  // ---- AWS SNS + SQS (defined in <tomodachi/aws_sns_sqs.hpp>) ------------------------
  /// Subscribe member `Fn` (`Task<void> Fn(Message&)`) to SNS topic `topic` through an
  /// SQS queue; `topic` "" = consume `options.queue_name` without a topic.
  template <auto Fn>
  void aws_sns_sqs(
      std::string_view topic,
      const AwsSnsSqsOptions& options = detail::default_options<AwsSnsSqsOptions, decltype(Fn)>());
  /// The same with any callable; `name` is the handler name (queue names, logs).
  template <typename Handler>
  void aws_sns_sqs(std::string_view topic, std::string name, Handler&& handler,
                   const AwsSnsSqsOptions& options);

  // ---- Schedules (defined in <tomodachi/schedule.hpp>) ------------------------------
  /// Runs member `Fn` on `when` (`every(5s)`, `cron("0 * * * *")`, `at("08:00")`, or
  /// `{.interval = ..., .timestamp = ..., .timezone = ..., .immediately = ...}`).
  template <auto Fn>
  void schedule(const ScheduleSpec& when);
  /// The same with any callable; `name` is the handler name used in logs.
  template <typename Handler>
  void schedule(const ScheduleSpec& when, std::string name, Handler&& handler);
  /// Shorthands: every second (`heartbeat`, `every_second`) and on the wall clock's
  /// whole minute, hour, day (midnight) and month (the 1st, midnight).
  template <auto Fn>
  void heartbeat();
  template <auto Fn>
  void every_second();
  template <auto Fn>
  void minutely();
  template <auto Fn>
  void hourly();
  template <auto Fn>
  void daily();
  template <auto Fn>
  void monthly();

  // ---- Readiness (defined in <tomodachi/health.hpp>) ---------------------------------
  /// Registers member `Fn`, `Task<HealthCheck> fn()`, as readiness check `name`: the loop runs
  /// it every second (at most `timeout`), readyz passes only while its last result is ok.
  template <auto Fn>
  void readiness_check(std::string name,
                       std::chrono::milliseconds timeout = std::chrono::seconds(2));

 private:
  friend detail::ServiceState& detail::service_state(Service& service) noexcept;

  std::unique_ptr<detail::ServiceState> state_;
};

inline detail::ServiceState& detail::service_state(Service& service) noexcept {
  return *service.state_;
}

namespace detail {
template <typename Callable>
inline constexpr bool is_message_middleware =
    std::is_invocable_r_v<Task<void>, Callable&, Message&, MiddlewareContext&, const MessageNext&>;
}  // namespace detail

template <auto Fn>
void Service::add_message_middleware() {
  if constexpr (detail::check_service_member<Fn>()) {
    constexpr bool ok = detail::is_message_middleware<detail::bound_member_t<Fn>>;
    static_assert(ok,
                  "tomodachi: a message middleware must be `tomodachi::Task<void> "
                  "fn(tomodachi::Message&, tomodachi::MiddlewareContext&, const "
                  "tomodachi::MessageNext& next)`");
    if constexpr (ok) message_middleware.emplace_back(detail::bind_member<Fn>(*this));
  }
}

template <typename Middleware>
void Service::add_message_middleware(Middleware&& middleware) {
  constexpr bool ok = detail::is_message_middleware<std::decay_t<Middleware>>;
  static_assert(ok,
                "tomodachi: a message middleware callable must be invocable as "
                "`tomodachi::Task<void>(tomodachi::Message&, tomodachi::MiddlewareContext&, const "
                "tomodachi::MessageNext& next)`");
  if constexpr (ok) message_middleware.emplace_back(std::forward<Middleware>(middleware));
}

/// The most recently registered running service, else the first, else null.
Service* get_service();
/// The running service named `name`, or null.
Service* get_service(std::string_view name);
/// Every running service, in start order.
std::vector<Service*> get_services();

/// Stops all services gracefully. With a code, it becomes the process exit status;
/// without one the current status is kept (spec/service.md §5).
void exit(std::optional<int> code = std::nullopt);

/// The exit status the process will end with (`SERVICE_EXIT_CODE`).
int service_exit_code() noexcept;
void set_service_exit_code(int code) noexcept;

}  // namespace tomodachi
