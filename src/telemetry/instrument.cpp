// The process's instrumentation switch, its pipeline and the periodic metrics export.
#include "telemetry/instrument.hpp"

#include "telemetry/pipeline.hpp"
#include "telemetry/prometheus_server.hpp"
#include "telemetry/prometheus_text.hpp"

#include <tomodachi/logging.hpp>
#include <tomodachi/version.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <memory>
#include <optional>

namespace tomodachi::telemetry {
namespace {

struct ProcessTelemetry {
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<MetricsRegistry> registry;
  std::shared_ptr<boost::asio::steady_timer> metrics_timer;
  std::unique_ptr<PrometheusServer> prometheus;
};

std::optional<Config>& requested() {
  static auto* config = new std::optional<Config>();
  return *config;
}
ProcessTelemetry& process() {
  static auto* state = new ProcessTelemetry();
  return *state;
}
std::atomic<MetricsRegistry*> registry_raw{nullptr};

// Every OTEL_METRIC_EXPORT_INTERVAL: one cumulative snapshot to the metrics exporter.
Task<void> export_metrics_periodically(std::shared_ptr<boost::asio::steady_timer> timer,
                                       std::chrono::milliseconds interval,
                                       std::chrono::milliseconds timeout) {
  for (;;) {
    timer->expires_after(interval);
    boost::system::error_code ec;
    co_await timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    auto& state = process();
    if (ec || !state.pipeline || !state.registry) co_return;
    auto snapshot = state.registry->collect();
    if (snapshot.empty()) continue;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto task = state.pipeline->export_metrics(std::move(snapshot), deadline);
    co_await std::move(task);
  }
}

// upstream's listen_url: "localhost" stands in for 0.0.0.0 and 127.0.0.1.
std::string prometheus_url(const std::string& host, std::uint16_t port) {
  const bool local = host == "0.0.0.0" || host == "127.0.0.1";
  return "http://" + (local ? std::string("localhost") : host) + ":" + std::to_string(port) + "/";
}

// TomodachiPrometheusMeterProvider._start_prometheus_http_server: the scrape endpoint on
// the service loop, its "prometheus client started" record, or its bind warning (then the
// service runs on without the endpoint).
void start_prometheus(boost::asio::any_io_executor executor, ProcessTelemetry& state,
                      const PrometheusConfig& config) {
  PrometheusOptions options{config.namespace_prefix, config.include_scope_info,
                            config.include_target_info};
  auto render = [&state, options](const ScrapeRequest& request) -> std::string {
    if (!state.registry || !state.pipeline) return request.openmetrics ? "# EOF\n" : "";
    auto families =
        prometheus_families(state.registry->collect_for_prometheus(),
                            state.pipeline->metrics_resource(), state.pipeline->scope(), options);
    if (!request.names.empty()) families = restrict_families(std::move(families), request.names);
    return request.openmetrics ? render_openmetrics(families) : render_text(families);
  };
  auto server = std::make_unique<PrometheusServer>(executor, std::move(render));
  Logger logger = get_logger("tomodachi.opentelemetry");
  try {
    server->listen(config.host, config.port);
  } catch (const boost::system::system_error& error) {
    // upstream: re.sub(".*: ", "", e.strerror), e.g. "Address already in use"
    logger.warning("unable to bind prometheus http server [http] to " +
                       prometheus_url(config.host, config.port) + " in otel metric provider",
                   {{"host", boost::json::string(config.host)},
                    {"port", config.port},
                    {"error_message", boost::json::string(error.code().message())},
                    {"opentelemetry_metric_provider", "tomodachi_prometheus"}});
    return;
  }
  logger.info("prometheus client started",
              {{"listen_url", boost::json::string(prometheus_url(config.host, config.port))},
               {"listen_host", boost::json::string(config.host)},
               {"listen_port", config.port}});
  state.prometheus = std::move(server);
}

}  // namespace

void request_instrumentation(Config config) { requested() = std::move(config); }
void clear_instrumentation_request() { requested().reset(); }
bool instrumentation_requested() noexcept { return requested().has_value(); }
const Config* instrumentation_config() noexcept { return requested() ? &*requested() : nullptr; }

MetricsRegistry* metrics() noexcept { return registry_raw.load(std::memory_order_acquire); }

void start_process_pipeline(boost::asio::any_io_executor executor, const std::string& service_name,
                            const std::string& service_uuid) {
  auto& state = process();
  if (!requested() || state.pipeline) return;
  const Config& config = *requested();
  state.pipeline = std::make_unique<Pipeline>(executor, config, service_name, service_uuid,
                                              std::string(tomodachi::version));
  const bool push_metrics = config.metrics.otlp || config.metrics.console;
  if (push_metrics || config.prometheus.enabled) {
    state.registry =
        std::make_unique<MetricsRegistry>(config.prometheus.enabled && config.prometheus.exemplars);
    registry_raw.store(state.registry.get(), std::memory_order_release);
  }
  if (config.prometheus.enabled) start_prometheus(executor, state, config.prometheus);
  if (push_metrics) {
    state.metrics_timer = std::make_shared<boost::asio::steady_timer>(executor);
    boost::asio::co_spawn(
        executor,
        export_metrics_periodically(state.metrics_timer, config.metric_export_interval,
                                    config.metric_export_timeout),
        boost::asio::detached);
  }
}

Task<void> shutdown_process_pipeline(std::chrono::steady_clock::time_point deadline) {
  auto& state = process();
  if (!state.pipeline) co_return;
  if (state.prometheus) state.prometheus->stop();
  if (state.metrics_timer) state.metrics_timer->cancel();
  const auto& metrics_choice = state.pipeline->config().metrics;
  if (state.registry && (metrics_choice.otlp || metrics_choice.console)) {
    auto snapshot = state.registry->collect();
    if (!snapshot.empty()) {
      auto task = state.pipeline->export_metrics(std::move(snapshot), deadline);
      co_await std::move(task);
    }
  }
  auto flush = state.pipeline->shutdown(deadline);
  co_await std::move(flush);
  registry_raw.store(nullptr, std::memory_order_release);
  state.pipeline.reset();  // uninstalls the tracer and the log sink
  state.registry.reset();
  state.metrics_timer.reset();
  state.prometheus.reset();
}

}  // namespace tomodachi::telemetry
