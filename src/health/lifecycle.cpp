// The health area's side of the launcher: validation of the health options, the loop
// heartbeat (a 100 ms timer stamping the registry), the management listener and the drain
// delay.
#include "health/lifecycle.hpp"

#include "core/loop.hpp"
#include "health/listener.hpp"
#include "health/registry.hpp"

#include <tomodachi/detail/handler_spec.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/service.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace tomodachi::health {

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

bool heartbeat_running = false;  // loop thread only; one heartbeat per run

[[noreturn]] void invalid(std::string_view key, const boost::json::value& value,
                          std::string_view expected) {
  throw OptionError("Invalid value for option '" + std::string(key) +
                    "': " + boost::json::serialize(value) + " (" + std::string(expected) + ")");
}

/// A number of seconds as JSON shows it in option errors: `30`, not `3E1`.
boost::json::value seconds_value(double seconds) {
  if (std::trunc(seconds) == seconds && std::abs(seconds) < 1e15)
    return static_cast<std::int64_t>(seconds);
  return seconds;
}

void validate(const Service& service) {
  const Options::Health& health = service.options.health;
  if (health.port && (*health.port < 0 || *health.port > 65535))
    invalid("health.port", *health.port, "expected a port 0-65535, or null");
  const std::string& prefix = health.path_prefix;
  if (prefix.empty() || prefix.front() != '/' || prefix.back() != '/' ||
      prefix.find_first_of("?# ") != std::string::npos) {
    invalid("health.path_prefix", boost::json::string(prefix),
            "expected a path that starts and ends with '/', e.g. \"/\" or \"/health/\"");
  }
  if (!(health.max_loop_lag > 0))
    invalid("health.max_loop_lag", seconds_value(health.max_loop_lag), "expected > 0");
  if (!(health.sqs_receive_max_age > 0))
    invalid("health.sqs_receive_max_age", seconds_value(health.sqs_receive_max_age),
            "expected > 0");
  const int grace = service.options.http.termination_grace_period_seconds > 0
                        ? service.options.http.termination_grace_period_seconds
                        : 30;
  if (!(health.drain_delay >= 0) || health.drain_delay >= grace) {
    invalid("health.drain_delay", seconds_value(health.drain_delay),
            "expected 0 or more and less than the shutdown deadline, "
            "http.termination_grace_period_seconds = " +
                std::to_string(grace));
  }
  if (!health.port) {
    bool has_http = false;
    for (const auto& spec : service.handlers()) has_http = has_http || spec->transport == "http";
    if (!has_http) {
      throw OptionError("Invalid value for option 'health.port': null (service '" + service.name() +
                        "' has no HTTP handlers to serve the health paths: set health.port)");
    }
  }
}

Task<void> heartbeat() {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  for (;;) {
    Registry::instance().stamp_heartbeat();
    timer.expires_after(100ms);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

std::string seconds_text(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", seconds);
  return buffer;
}

}  // namespace

void begin_run(std::size_t containers) {
  heartbeat_running = false;
  Registry::instance().begin_run(containers);
}

void service_loaded(Service& service) {
  const Options::Health& health = service.options.health;
  if (!health.enabled) return;
  validate(service);
  Registry& registry = Registry::instance();
  if (!registry.configured()) registry.configure(health);
  if (!heartbeat_running) {
    heartbeat_running = true;
    asio::co_spawn(detail::loop(), heartbeat(), asio::detached);
  }
  if (!health.port) return;
  const ListenerAddress address = open_listener(health.host, *health.port);
  const std::string host = address.host.empty() ? "0.0.0.0" : address.host;
  get_logger("tomodachi.health")
      .info("accepting health requests",
            {{"listen_url", boost::json::string("http://" + host + ":" +
                                                std::to_string(address.port) + health.path_prefix)},
             {"listen_port", address.port},
             {"service", boost::json::string(service.name())}});
}

void container_started() { Registry::instance().container_started(); }

void begin_drain() {
  Registry& registry = Registry::instance();
  if (!registry.configured()) return;
  registry.begin_drain();
}

Task<void> drain_delay() {
  Registry& registry = Registry::instance();
  if (!registry.configured() || !registry.draining()) co_return;
  const double delay = registry.options().drain_delay;
  if (delay <= 0) co_return;
  const auto until = registry.drain_started() + std::chrono::duration_cast<Clock::duration>(
                                                    std::chrono::duration<double>(delay));
  if (Clock::now() >= until) co_return;
  static Clock::time_point logged_for{};
  if (logged_for != registry.drain_started()) {
    logged_for = registry.drain_started();
    get_logger("tomodachi.health")
        .info("readiness fails - waiting health.drain_delay before stopping",
              {{"drain_delay", boost::json::string(seconds_text(delay) + " s")}});
  }
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, until);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace tomodachi::health
