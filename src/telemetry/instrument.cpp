// The process's instrumentation switch, its pipeline and the periodic metrics export.
#include "telemetry/instrument.hpp"

#include "telemetry/pipeline.hpp"

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
  if (config.metrics.otlp) {
    state.registry = std::make_unique<MetricsRegistry>();
    registry_raw.store(state.registry.get(), std::memory_order_release);
    state.metrics_timer = std::make_shared<boost::asio::steady_timer>(executor);
    boost::asio::co_spawn(
        executor,
        export_metrics_periodically(state.metrics_timer, config.metric_export_interval,
                                    config.metric_export_timeout),
        boost::asio::detached);
  }
  if (config.metrics.console) {
    get_logger("tomodachi.opentelemetry")
        .warning("OTEL_METRICS_EXPORTER=console is not supported: metrics are not exported");
  }
}

Task<void> shutdown_process_pipeline(std::chrono::steady_clock::time_point deadline) {
  auto& state = process();
  if (!state.pipeline) co_return;
  if (state.metrics_timer) state.metrics_timer->cancel();
  if (state.registry) {
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
}

}  // namespace tomodachi::telemetry
