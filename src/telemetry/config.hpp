#pragma once
// OpenTelemetry configuration from the OTEL_* environment, with upstream tomodachi's
// defaults (its distro sets every exporter to `none`). Invalid values throw ConfigError
// naming the variable, at start-up.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tomodachi/error.hpp>

namespace tomodachi::telemetry {

/// A start-up configuration error; what() names the variable and the value.
class ConfigError : public Error {
 public:
  using Error::Error;
};

using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
/// The process environment (getenv).
EnvLookup process_env();

using KeyValues = std::vector<std::pair<std::string, std::string>>;

enum class Protocol { http_protobuf, http_json };
enum class Signal { traces, metrics, logs };
std::string_view to_string(Signal signal) noexcept;

struct OtlpConfig {
  std::string endpoint;  ///< full URL including /v1/<signal>
  KeyValues headers;
  std::chrono::milliseconds timeout{10000};
  Protocol protocol = Protocol::http_protobuf;
  bool gzip = false;
};

struct ExporterChoice {
  bool otlp = false;
  bool console = false;
  bool any() const noexcept { return otlp || console; }
};

enum class SamplerKind {
  always_on,
  always_off,
  traceidratio,
  parentbased_always_on,
  parentbased_always_off,
  parentbased_traceidratio
};
struct SamplerConfig {
  SamplerKind kind = SamplerKind::parentbased_always_on;
  double ratio = 1.0;
};

struct BatchConfig {
  std::chrono::milliseconds schedule_delay{5000};
  std::chrono::milliseconds export_timeout{30000};
  std::size_t max_queue_size = 2048;
  std::size_t max_export_batch_size = 512;
};

/// Upstream's `tomodachi_prometheus` meter provider (OTEL_PYTHON_METER_PROVIDER) or metric
/// reader (OTEL_PYTHON_METRIC_READER): a Prometheus endpoint on the service loop.
struct PrometheusConfig {
  bool enabled = false;
  bool meter_provider = false;  ///< as upstream's provider: replaces OTEL_METRICS_EXPORTER
  std::string host = "localhost";
  std::uint16_t port = 9464;
  std::string namespace_prefix;
  bool include_scope_info = true;
  bool include_target_info = true;
  bool exemplars = false;
};

struct Config {
  std::optional<std::string> service_name;  ///< OTEL_SERVICE_NAME
  KeyValues resource_attributes;            ///< OTEL_RESOURCE_ATTRIBUTES, in order
  ExporterChoice traces, metrics, logs;
  OtlpConfig otlp_traces, otlp_metrics, otlp_logs;
  SamplerConfig sampler;
  BatchConfig span_batch;  ///< OTEL_BSP_*
  BatchConfig log_batch;   ///< OTEL_BLRP_*
  std::chrono::milliseconds metric_export_interval{60000};
  std::chrono::milliseconds metric_export_timeout{30000};
  std::vector<std::string> excluded_urls;  ///< regexes, matched by search on the path
  PrometheusConfig prometheus;

  const OtlpConfig& otlp(Signal signal) const noexcept;
};

/// Reads the configuration; throws ConfigError for an unknown or invalid value.
Config load_config(const EnvLookup& env);

/// The Prometheus part of load_config (upstream's variables, fallbacks and defaults).
PrometheusConfig load_prometheus_config(const EnvLookup& env);

/// True when TOMODACHI_OPENTELEMETRY_INSTRUMENT turns instrumentation on (set, and not
/// `0`/`no`/`none`/`false`, case-insensitive), as upstream's CLI reads it.
bool instrument_requested(const EnvLookup& env);

/// The resource attributes of a service, upstream's rules: `service.name` is
/// OTEL_SERVICE_NAME, else OTEL_RESOURCE_ATTRIBUTES' service.name, else the service's name
/// unless it is `service`/`app` (then `unknown_service`); `service.instance.id` is the
/// service uuid unless the resource sets one. `for_metrics`: upstream adds the instance id
/// to the meter's resource even for a service named `service`/`app`, not to the tracer's
/// or logger's.
KeyValues build_resource(const Config& config, std::string_view service_name,
                         std::string_view service_uuid, bool for_metrics = false);

/// Compiled excluded-URL patterns (RE2, search semantics).
class UrlExcluder {
 public:
  UrlExcluder() = default;
  explicit UrlExcluder(const std::vector<std::string>& patterns);
  ~UrlExcluder();
  UrlExcluder(UrlExcluder&&) noexcept;
  UrlExcluder& operator=(UrlExcluder&&) noexcept;
  bool excluded(std::string_view path) const;
  bool empty() const noexcept { return impl_ == nullptr; }

 private:
  struct Impl;
  Impl* impl_ = nullptr;
};

}  // namespace tomodachi::telemetry
